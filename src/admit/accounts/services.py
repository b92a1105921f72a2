"""Staff, roles, API tokens, device credentials and the login lock."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from admit.core.errors import AuthenticationFailed, DomainError, ValidationFailed
from admit.core.models import AuditEntry
from admit.core.services import audit_record, model_save
from admit.core.versions import TOKENS, remember

from .models import ApiToken, Device, User
from .roles import ROLES

TOKEN_PREFIX = "adm_"
# A token's last use is written at most this often, so that hot paths (gates) do not write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class AccountLocked(DomainError):
    code = "account_locked"
    status = 403
    default_message = _("Too many failed logins: this account is locked for a while.")


class InvalidCredentials(AuthenticationFailed):
    code = "invalid_credentials"
    default_message = _("Wrong user name or password.")


def roles_sync() -> None:
    """Create or update one group per role with exactly the role's permissions."""
    all_perms = list(Permission.objects.select_related("content_type"))
    for role in ROLES.values():
        wanted = []
        excluded = {r[1:] for r in role.permissions if r.startswith("!")}
        for perm in all_perms:
            full = f"{perm.content_type.app_label}.{perm.codename}"
            if full in excluded:
                continue
            for rule in role.permissions:
                if (
                    rule == full
                    or (rule.endswith(".*") and rule[:-2] == perm.content_type.app_label)
                    or (rule == "view:*" and perm.codename.startswith("view_"))
                ):
                    wanted.append(perm)
                    break
        group, _created = Group.objects.get_or_create(name=role.code)
        group.permissions.set(wanted)


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    roles: Iterable[str] = (),
    actor: Any,
    display_name: str = "",
    is_superuser: bool = False,
) -> User:
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValidationFailed(
            _("Unknown role: %(role)s") % {"role": unknown[0]}, code="unknown_role"
        )
    user = User(
        username=username,
        display_name=display_name,
        is_staff=True,
        is_superuser=is_superuser,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    groups = list(Group.objects.filter(name__in=list(roles)))
    return model_save(instance=user, actor=actor, m2m={"groups": groups}, verb="user_create")


def user_save(
    *, instance: User, actor: Any, m2m: Mapping[str, Iterable[Any]] | None = None
) -> User:
    return model_save(instance=instance, actor=actor, m2m=m2m, validate=False)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def token_create(
    *,
    actor: Any,
    user: User | None = None,
    device: Device | None = None,
    name: str = "",
    days: int | None = None,
) -> tuple[ApiToken, str]:
    """Make a bearer token; the secret is returned once and only its hash is kept."""
    if (user is None) == (device is None):
        raise ValidationFailed(_("A token belongs to either a user or a device."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    lifetime = settings.ADMIT_TOKEN_DAYS if days is None else days
    token = ApiToken(
        name=name,
        user=user,
        device=device,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=_hash(secret),
        expires_at=timezone.now() + dt.timedelta(days=lifetime) if lifetime else None,
    )
    model_save(instance=token, actor=actor, verb="token_create", validate=False)
    return token, secret


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: Any) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        model_save(instance=token, actor=actor, verb="token_revoke", validate=False)
    return token


def token_authenticate(*, secret: str) -> ApiToken | None:
    """The valid token for a bearer secret, with its user or device, or None.

    Found tokens are kept in memory per process, keyed by the secret's hash, until the
    ``tokens`` version moves: every save of a token (revocation), a device or a staff user
    bumps it in the same transaction, and each API request reads the versions afresh, so a
    revoked token or a deactivated user is refused from the next request on, in every process.
    Expiry is checked on every use.
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    digest = _hash(secret)
    token = remember(TOKENS, ("token", digest), partial(_token_load, digest), keep_none=False)
    if token is None or not token.is_valid:
        return None
    if token.user is not None and not token.user.is_active:
        return None
    if token.device is not None and not token.device.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def _token_load(digest: str) -> ApiToken | None:
    return ApiToken.objects.select_related("user", "device").filter(token_hash=digest).first()


def login_locked_until(*, username: str) -> dt.datetime | None:
    user = User.objects.filter(username=username).only("locked_until").first()
    if user is not None and user.is_locked:
        return user.locked_until
    return None


def login_failed(*, username: str) -> None:
    """Count a failed login; lock the account when the count reaches the limit."""
    with transaction.atomic():
        updated = User.objects.filter(username=username).update(
            failed_logins=F("failed_logins") + 1
        )
        if not updated:
            return
        user = User.objects.select_for_update().get(username=username)
        if user.failed_logins >= settings.ADMIT_LOGIN_MAX_FAILURES and not user.is_locked:
            user.locked_until = timezone.now() + dt.timedelta(
                minutes=settings.ADMIT_LOGIN_LOCK_MINUTES
            )
            user.failed_logins = 0
            user.save(update_fields=["locked_until", "failed_logins"])
            audit_record(
                actor=None,
                action=AuditEntry.Action.ACTION,
                obj=user,
                verb="login_locked",
                note=f"locked until {user.locked_until.isoformat()}",
            )


def login_succeeded(*, user: User) -> None:
    if user.failed_logins or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)


def token_obtain(*, username: str, password: str, name: str = "") -> tuple[ApiToken, str]:
    """Exchange a user name and password for a bearer token (the API login)."""
    from django.contrib.auth import authenticate

    locked = login_locked_until(username=username)
    if locked is not None:
        raise AccountLocked(details={"locked_until": locked.isoformat()})
    user = authenticate(username=username, password=password)
    if user is None:
        locked = login_locked_until(username=username)
        if locked is not None:
            raise AccountLocked(details={"locked_until": locked.isoformat()})
        raise InvalidCredentials()
    assert isinstance(user, User)
    return token_create(actor=user, user=user, name=name or "API login")


def device_save(
    *, instance: Device, actor: Any, m2m: Mapping[str, Iterable[Any]] | None = None
) -> Device:
    return model_save(instance=instance, actor=actor, m2m=m2m)


def device_credential_issue(*, device: Device, actor: Any) -> tuple[ApiToken, str]:
    """A fresh bearer token for a device (e.g. when a turnstile is installed); no expiry."""
    return token_create(actor=actor, device=device, name=f"device {device.code}", days=0)


SAVE_SERVICES: dict[type[models.Model], Callable[..., Any]] = {
    User: user_save,
    Device: device_save,
}
