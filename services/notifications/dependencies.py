"""The notifications service's dependency providers: the kit's, plus who to tell and how."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from nameko import config
from nameko.extensions import DependencyProvider

from services.common.dependencies import (
    DATA_ROOT,
    ProvinceData,
    ServiceClock,
    TransactionalStore,
)

from .adapters.email import SmtpConfig, SmtpSender
from .adapters.uow import NotificationsUnitOfWork
from .adapters.webhook import WebhookConfig, WebhookSender
from .domain.contacts import Contacts
from .domain.policy import Policy


def store() -> TransactionalStore:
    return TransactionalStore("notifications", uow_cls=NotificationsUnitOfWork)


@dataclass(frozen=True)
class Channels:
    contacts: Contacts
    policy: Policy
    email: SmtpSender
    webhook: WebhookSender

    @staticmethod
    def secret_for(env_name: str) -> bytes | None:
        # Secrets live in the environment only; the contacts file names the variable.
        value = os.environ.get(env_name)
        return value.encode() if value else None


def _yaml(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return loaded


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def load_channels(cfg: Any) -> Channels:
    data_dir = cfg.get("DATA_DIR")
    root = Path(data_dir) if data_dir else DATA_ROOT
    province = cfg.get("PROVINCE") or "demo"
    contacts_path = cfg.get("CONTACTS") or root / "provinces" / province / "contacts.yaml"
    policy_path = cfg.get("POLICY") or root / "notification-policy.yaml"
    smtp = SmtpConfig(
        host=str(cfg.get("SMTP_HOST") or "localhost"),
        port=int(cfg.get("SMTP_PORT") or 25),
        sender=str(cfg.get("SMTP_FROM") or "parpulse@localhost"),
        starttls=_flag(cfg.get("SMTP_STARTTLS", False)),
        use_ssl=_flag(cfg.get("SMTP_SSL", False)),
        username=cfg.get("SMTP_USERNAME") or None,
        password=cfg.get("SMTP_PASSWORD") or None,
        timeout_s=float(cfg.get("SMTP_TIMEOUT") or 10),
        attempts=int(cfg.get("SMTP_ATTEMPTS") or 3),
    )
    webhook = WebhookConfig(
        timeout_s=float(cfg.get("WEBHOOK_TIMEOUT") or 10),
        attempts=int(cfg.get("WEBHOOK_ATTEMPTS") or 5),
        base_delay_s=float(cfg.get("WEBHOOK_BASE_DELAY") or 1),
        proxy=cfg.get("WEBHOOK_PROXY") or None,
    )
    return Channels(Contacts.from_dict(_yaml(Path(contacts_path))),
                    Policy.from_dict(_yaml(Path(policy_path))),
                    SmtpSender(smtp), WebhookSender(webhook))


class NotificationChannels(DependencyProvider):
    """Contacts, policy and senders, loaded once at start (a bad file fails the start)."""

    def setup(self) -> None:
        self.channels = load_channels(config)

    def get_dependency(self, worker_ctx: Any) -> Channels:
        return self.channels


__all__ = ["Channels", "NotificationChannels", "ProvinceData", "ServiceClock", "load_channels",
           "store"]
