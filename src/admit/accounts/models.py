from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A member of staff (supervisor, cashier, finance, ...). Rights come from roles (groups)."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    discount_limit_percent = models.DecimalField(
        _("manual discount limit (%)"),
        max_digits=5,
        decimal_places=2,
        default=0,
        help_text=_("The largest discount this person may give at the window without approval."),
    )
    failed_logins = models.PositiveIntegerField(_("failed logins in a row"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    audit_secret_fields = ("password",)

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


class Device(models.Model):
    """A machine that talks to Admit on its own: a gate lane's turnstile, a handheld, a kiosk."""

    class Kind(models.TextChoices):
        GATE = "gate", _("gate lane device")
        HANDHELD = "handheld", _("handheld scanner")
        KIOSK = "kiosk", _("self-service kiosk")
        POS = "pos", _("box office terminal")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.GATE)
    lane = models.ForeignKey(
        "catalog.Lane",
        verbose_name=_("lane"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="devices",
        help_text=_("The lane this device serves; its credential is refused at any other lane."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_seen_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ApiToken(models.Model):
    """A bearer credential of a staff user or a device. Only a hash of the secret is stored."""

    name = models.CharField(_("name"), max_length=100, blank=True)
    user = models.ForeignKey(
        User,
        verbose_name=_("staff user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    device = models.ForeignKey(
        Device,
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False, device__isnull=True))
                | (models.Q(user__isnull=True, device__isnull=False)),
                name="apitoken_user_xor_device",
            )
        ]

    def __str__(self) -> str:
        owner = self.user or self.device
        return f"{self.prefix}… ({owner})"

    @property
    def is_valid(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
