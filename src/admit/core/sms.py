"""Text messages (短信) to phones, through one small interface.

``sms_send`` queues a message to leave once the caller's transaction commits (a rolled-back
write sends nothing); the sender named by ``ADMIT_SMS_SENDER`` delivers it. Admit ships only
``SandboxSmsSender`` ("sandbox", the default): it delivers nothing and keeps each message in
``SandboxSms`` (back office: Audit trail → sandbox text messages) and in the log, for demos
and tests. A real gateway (Aliyun SMS, Tencent Cloud SMS, …) is a class with the same ``send``,
named by its dotted path in ``ADMIT_SMS_SENDER``.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from .text import mask

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    code: str

    def send(self, *, phone: str, text: str) -> None:
        """Deliver ``text`` to ``phone`` (national digits for mainland numbers, else E.164)."""


class SandboxSmsSender:
    """Delivers nothing: the message is kept in ``SandboxSms`` and written to the log."""

    code = "sandbox"

    def send(self, *, phone: str, text: str) -> None:
        from .models import SandboxSms

        SandboxSms.objects.create(phone=phone, text=text)
        log.info("sandbox SMS to %s (not delivered): %s", mask(phone), text)


SENDERS: dict[str, SmsSender] = {"sandbox": SandboxSmsSender()}


@cache
def _sender(name: str) -> SmsSender:
    if name in SENDERS:
        return SENDERS[name]
    sender: SmsSender = import_string(name)()
    return sender


def sms_sender() -> SmsSender:
    return _sender(settings.ADMIT_SMS_SENDER)


def sms_send(*, phone: str, text: str) -> None:
    """Send ``text`` to ``phone`` once the current transaction commits (at once outside one)."""
    sender = sms_sender()
    transaction.on_commit(lambda: sender.send(phone=phone, text=text))


def sms_outbox(phone: str) -> list[str]:
    """The texts the sandbox kept for ``phone``, newest first (demos and tests)."""
    from .models import SandboxSms

    return list(SandboxSms.objects.filter(phone=phone).values_list("text", flat=True))
