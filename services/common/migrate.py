"""Schema migrations (Alembic), one version folder per service."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("dossiers", "scoring", "notifications", "gateway")


def alembic_config(service: str, url: str) -> Config:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}: one of {', '.join(SERVICES)}")
    cfg = Config()
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("version_locations", str(ROOT / "migrations" / service))
    cfg.attributes["service"] = service
    cfg.attributes["url"] = url
    return cfg


def upgrade(service: str, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, url), revision)


def revision(service: str, url: str, message: str) -> None:
    """Autogenerate a revision from the models (a developer's tool)."""
    cfg = alembic_config(service, url)
    command.upgrade(cfg, "head")
    command.revision(cfg, message=message, autogenerate=True,
                     version_path=str(ROOT / "migrations" / service))
