"""Email over SMTP (smtplib), with bounded retries of transient failures."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ..domain.masking import find_personal_data
from . import DeliveryResult, backoff_delay, guard_refusal


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 25
    sender: str = "parpulse@localhost"
    starttls: bool = False
    use_ssl: bool = False  # implicit TLS (port 465)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0
    attempts: int = 3
    base_delay_s: float = 1.0
    backoff_factor: float = 2.0
    max_delay_s: float = 60.0


class SmtpSender:
    def __init__(self, config: SmtpConfig, *, sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self._sleep = sleep

    def build(self, to: Sequence[str], subject: str, body: str,
              headers: Mapping[str, str] | None = None) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = ", ".join(to)
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        # An explicit domain: make_msgid would otherwise look up this host's FQDN on every send.
        msg["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2] or "parpulse")
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        for name, value in (headers or {}).items():
            msg[name] = value
        msg.set_content(body, charset="utf-8")
        return msg

    def send(self, to: Sequence[str], subject: str, body: str, *,
             headers: Mapping[str, str] | None = None,
             personal_values: Iterable[str] = ()) -> DeliveryResult:
        """Sends one message; retries transient failures; never raises."""
        if not to:
            return DeliveryResult(ok=False, error="no recipient", dead_lettered=True)
        text = "\n".join([subject, body, *(headers or {}).values()])
        found = find_personal_data(text, personal_values)
        if found:
            return guard_refusal(found)
        try:
            msg = self.build(to, subject, body, headers)
        except Exception as exc:  # a malformed header value, say
            return DeliveryResult(ok=False, error=f"cannot build message: {exc}",
                                  dead_lettered=True)
        cfg, errors = self.config, list[str]()
        for attempt in range(1, max(cfg.attempts, 1) + 1):
            if attempt > 1:
                self._sleep(backoff_delay(attempt - 1, cfg.base_delay_s, cfg.backoff_factor,
                                          cfg.max_delay_s))
            try:
                refused = self._deliver(msg, to)
            except Exception as exc:
                code = getattr(exc, "smtp_code", None)
                errors.append(_describe(exc))
                if not _transient(exc):
                    return DeliveryResult(False, errors[-1], attempt, True, code,
                                          attempt_errors=tuple(errors))
                continue
            note = f"refused by the server for {len(refused)} recipient(s)" if refused else None
            return DeliveryResult(True, note, attempt, status=250, attempt_errors=tuple(errors))
        return DeliveryResult(False, errors[-1], len(errors), True,
                              attempt_errors=tuple(errors))

    def _deliver(self, msg: EmailMessage, to: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        cfg = self.config
        smtp: smtplib.SMTP
        if cfg.use_ssl:
            smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
        with smtp:
            if cfg.starttls and not cfg.use_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if cfg.username:
                smtp.login(cfg.username, cfg.password or "")
            return smtp.send_message(msg, from_addr=cfg.sender, to_addrs=list(to))


def _transient(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError):
        return False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500  # 4xx: try again later; 5xx: permanent
    # Disconnects, refused connections, timeouts, DNS failures: the server may come back.
    return isinstance(exc, smtplib.SMTPException | OSError)


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"SMTPRecipientsRefused: {sorted({c for c, _ in exc.recipients.values()})}"
    return f"{type(exc).__name__}: {exc}"
