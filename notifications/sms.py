"""SMS backends. Production plugs in a gateway class with ``send(phone, text)`` via SMS_BACKEND."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("notifications.sms")

outbox: list[tuple[str, str]] = []


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LogSmsBackend:
    """Development backend: writes the message to the log."""

    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", phone, text)


class MemorySmsBackend:
    """Test backend: keeps messages in ``notifications.sms.outbox``."""

    def send(self, phone: str, text: str) -> None:
        outbox.append((phone, text))


def get_sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()
