"""Members sign in to the shop with a one-time code sent to their phone (短信验证码).

- A code is six digits, valid for ``CODE_LIFETIME`` (5 minutes), good for one sign-in. Only a
  salted HMAC of it is kept; it leaves by text message through ``core.sms`` once the row is
  committed.
- A code takes at most ``MAX_ATTEMPTS`` (5) wrong tries; then it is locked and only a new code
  signs in. Only the newest code of a phone counts: asking for a new one ends the one before.
- A new code for the same phone after ``RESEND_AFTER`` (60 s) at the earliest, at most
  ``CODES_PER_DAY`` per phone within 24 hours and ``CODES_PER_ADDRESS`` per caller's address
  within an hour (texts cost money, and a phone must not be flooded). Rows older than 24 hours
  count for nothing and are deleted as new codes are sent.
- A phone that is no active member's gets the same answers and limits (a row without member;
  nothing is sent and no code matches), so that the sign-in tells nobody who is a member.
- Checking a code runs outside any transaction: a wrong try stays counted when the refusal is
  raised. Counting and using are conditional UPDATEs, so tries at the same instant can neither
  pass the limit nor use one code twice.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from admit.core.context import current_context
from admit.core.errors import Conflict, RateLimited, ValidationFailed
from admit.core.models import AuditEntry
from admit.core.services import audit_record
from admit.core.sms import sms_send
from admit.customers.models import Member
from admit.customers.origin import normalize_phone
from admit.customers.selectors import member_of

from ..models import SignInCode, SignInThrottle
from . import SHOP, InvalidPhone

CODE_DIGITS = 6
CODE_LIFETIME = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_AFTER = dt.timedelta(seconds=60)
CODES_PER_DAY = 10
CODES_PER_ADDRESS = 20
HASH_SALT = "admit.shop.sign_in_code"
KEEP = dt.timedelta(hours=24)


class CodeTooSoon(RateLimited):
    code = "sign_in_code_too_soon"
    default_message = _("A code was sent a moment ago. Please wait a minute before asking again.")


class TooManyCodes(RateLimited):
    code = "sign_in_code_limit"
    default_message = _("Too many codes were asked for. Please try again later.")


class CodeWrong(ValidationFailed):
    code = "sign_in_code_wrong"
    default_message = _("This code is not right.")


class CodeLocked(RateLimited):
    code = "sign_in_code_locked"
    default_message = _("Too many wrong codes. Please ask for a new code.")


class CodeNotValid(Conflict):
    code = "sign_in_code_expired"
    default_message = _("This code has expired or was already used. Please ask for a new code.")


def _phone(phone: str) -> str:
    digits = normalize_phone(phone[:40])
    if digits is None:
        raise InvalidPhone(details={"phone": phone[:32]})
    return digits


def _hash(phone: str, code: str, salt: str) -> str:
    return salted_hmac(HASH_SALT, f"{salt}:{phone}:{code}", algorithm="sha256").hexdigest()


def _wait(since: dt.datetime, window: dt.timedelta, now: dt.datetime) -> int:
    """Whole seconds until ``since`` has left ``window`` (at least 1)."""
    return max(1, int((since + window - now).total_seconds()) + 1)


def _seconds_message(seconds: int) -> str:
    return ngettext(
        "Please wait %(n)d second before asking for another code.",
        "Please wait %(n)d seconds before asking for another code.",
        seconds,
    ) % {"n": seconds}


def _claim_phone(phone: str, now: dt.datetime) -> None:
    """Take this phone's turn to be sent a code, or refuse if it had one less than
    ``RESEND_AFTER`` ago. The conditional UPDATE locks the phone's throttle row until the
    transaction ends, so of two simultaneous requests the second sees the first's time."""
    claimed = SignInThrottle.objects.filter(
        phone=phone, last_sent_at__lte=now - RESEND_AFTER
    ).update(last_sent_at=now)
    if claimed:
        return
    try:
        with transaction.atomic():
            SignInThrottle.objects.create(phone=phone, last_sent_at=now)
        return
    except IntegrityError:
        pass  # the row exists and is recent (perhaps written a moment ago by another request)
    last = SignInThrottle.objects.values_list("last_sent_at", flat=True).get(phone=phone)
    wait = _wait(min(last, now), RESEND_AFTER, now)
    raise CodeTooSoon(_seconds_message(wait), details={"retry_after": wait})


def _check_limits(phone: str, now: dt.datetime) -> None:
    _claim_phone(phone, now)
    recent = list(
        SignInCode.objects.filter(phone=phone, created_at__gt=now - KEEP)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:CODES_PER_DAY]
    )
    if len(recent) >= CODES_PER_DAY:
        raise TooManyCodes(details={"retry_after": _wait(recent[-1], KEEP, now)})
    ip = current_context().source_ip
    hour = dt.timedelta(hours=1)
    if ip is not None:
        from_address = list(
            SignInCode.objects.filter(source_ip=ip, created_at__gt=now - hour)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[:CODES_PER_ADDRESS]
        )
        if len(from_address) >= CODES_PER_ADDRESS:
            raise TooManyCodes(details={"retry_after": _wait(from_address[-1], hour, now)})


def _deadlocked(exc: OperationalError) -> bool:
    """Whether the database chose this transaction as a deadlock's victim (MariaDB 1213,
    PostgreSQL 40P01)."""
    cause = exc.__cause__
    return bool(
        (getattr(cause, "args", None) or [None])[0] == 1213
        or getattr(cause, "sqlstate", None) == "40P01"
    )


def member_code_send(*, phone: str, now: dt.datetime | None = None) -> SignInCode:
    """Send a sign-in code to ``phone`` if it is an active member's (the same answer if not).
    Returns the code's row (its hash only).

    Requests racing for a phone's first throttle row can deadlock on MariaDB (the unique key's
    insert locks); the victim has written nothing else yet and is answered as too soon, since
    the winner is sending the code."""
    try:
        return _code_send(phone=phone, now=now)
    except OperationalError as exc:
        if not _deadlocked(exc):
            raise
        raise CodeTooSoon(
            _seconds_message(int(RESEND_AFTER.total_seconds())),
            details={"retry_after": int(RESEND_AFTER.total_seconds())},
        ) from None


@transaction.atomic
def _code_send(*, phone: str, now: dt.datetime | None) -> SignInCode:
    now = now or timezone.now()
    digits = _phone(phone)
    _check_limits(digits, now)
    # Rows older than the longest window count for nothing any more.
    SignInCode.objects.filter(created_at__lt=now - KEEP).delete()
    SignInThrottle.objects.filter(last_sent_at__lt=now - KEEP).delete()
    member = member_of(phone=digits)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_hex(8)
    row = SignInCode.objects.create(
        phone=digits,
        member=member,
        # No member: a hash of nothing anyone can type, so no code matches.
        code_hash=f"{salt}${_hash(digits, code if member else secrets.token_hex(16), salt)}",
        source_ip=current_context().source_ip,
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    if member is not None:
        minutes = int(CODE_LIFETIME.total_seconds() // 60)
        sms_send(
            phone=digits,
            text=gettext(
                "Your member sign-in code is %(code)s, valid for %(minutes)d minutes. "
                "Do not give it to anyone."
            )
            % {"code": code, "minutes": minutes},
        )
    return row


def member_code_verify(*, phone: str, code: str, now: dt.datetime | None = None) -> Member:
    """The member whose phone the newest code was sent to, if ``code`` is that code, unused,
    unexpired and not locked; the code is used up. A wrong code counts one try."""
    now = now or timezone.now()
    digits = _phone(phone)
    row = SignInCode.objects.filter(phone=digits).order_by("-created_at", "-pk").first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        reason = "none" if row is None else "used" if row.used_at else "expired"
        raise CodeNotValid(details={"reason": reason})
    if row.attempts >= MAX_ATTEMPTS:
        raise CodeLocked()
    entered = re.sub(r"\s", "", code)[:20]
    salt, _sep, expected = row.code_hash.partition("$")
    if not constant_time_compare(_hash(digits, entered, salt), expected):
        counted = SignInCode.objects.filter(
            pk=row.pk, attempts__lt=MAX_ATTEMPTS, used_at__isnull=True
        ).update(attempts=F("attempts") + 1)
        attempts = SignInCode.objects.values_list("attempts", flat=True).get(pk=row.pk)
        if attempts >= MAX_ATTEMPTS:
            if counted and row.member_id is not None:
                audit_record(
                    actor=SHOP,
                    action=AuditEntry.Action.ACTION,
                    obj=row.member,
                    verb="member_sign_in_locked",
                )
            raise CodeLocked()
        left = MAX_ATTEMPTS - attempts
        raise CodeWrong(
            ngettext(
                "This code is not right. %(n)d more try.",
                "This code is not right. %(n)d more tries.",
                left,
            )
            % {"n": left},
            details={"tries_left": left},
        )
    used = SignInCode.objects.filter(
        pk=row.pk, used_at__isnull=True, attempts__lt=MAX_ATTEMPTS, expires_at__gt=now
    ).update(used_at=now)
    member = (
        Member.objects.select_related("level").filter(pk=row.member_id, is_active=True).first()
        if row.member_id is not None
        else None
    )
    if not used or member is None:
        raise CodeNotValid(details={"reason": "used"})
    audit_record(actor=SHOP, action=AuditEntry.Action.ACTION, obj=member, verb="member_signed_in")
    return member


__all__ = [
    "CodeLocked",
    "CodeNotValid",
    "CodeTooSoon",
    "CodeWrong",
    "TooManyCodes",
    "member_code_send",
    "member_code_verify",
]
