"""The integrator kit: publish dossier messages to ParPulse with publisher confirms."""

from .messages import (
    FORMAT_HEADER,
    FailedMessage,
    OutboundMessage,
    PublishError,
    dvcqg_progress_message,
    dvcqg_sync_message,
    native_message,
    routing_key,
)
from .publisher import InboundPublisher

__all__ = [
    "FORMAT_HEADER",
    "FailedMessage",
    "InboundPublisher",
    "OutboundMessage",
    "PublishError",
    "dvcqg_progress_message",
    "dvcqg_sync_message",
    "native_message",
    "routing_key",
]
