"""Partners who sell the venue's tickets through their own systems, and the outbox of notices.

A partner is a reseller speaking OCTO (``kind=octo``) or an OTA platform with its own protocol
(``kind=ota``, through a connector). Each sells on its own sales channel, so its allocation
(渠道配额) and its net prices are the channel's, and every booking goes through the sales engine
like any other order. Only a hash of a partner's bearer key is stored.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

PARTNERS_VERSION = "partners"


class Partner(models.Model):
    class Kind(models.TextChoices):
        OCTO = "octo", _("OCTO reseller")
        OTA = "ota", _("OTA platform (connector)")

    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Also the account id an OTA platform signs its requests with."),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    connector = models.CharField(
        _("connector"),
        max_length=40,
        blank=True,
        help_text=_("The protocol of an OTA platform, e.g. sandbox."),
    )
    channel = models.OneToOneField(
        "catalog.Channel",
        verbose_name=_("sales channel"),
        on_delete=models.PROTECT,
        related_name="partner",
        help_text=_(
            "A channel of kind OTA of its own: its prices are the partner's net prices and "
            "its allocations the partner's quota."
        ),
    )
    retail_channel = models.ForeignKey(
        "catalog.Channel",
        verbose_name=_("retail price channel"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Whose prices are shown to the partner as retail prices (e.g. online)."),
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("B2B account"),
        on_delete=models.PROTECT,
        related_name="partners",
        help_text=_("The account confirmed bookings are charged to (挂账) for settlement."),
    )
    key_prefix = models.CharField(_("key prefix"), max_length=16, blank=True, editable=False)
    key_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    secret = models.CharField(
        _("shared secret"),
        max_length=100,
        blank=True,
        help_text=_("Signs the platform's requests and Admit's notices (HMAC-SHA256)."),
    )
    webhook_url = models.URLField(_("notice URL"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    audit_secret_fields = ("key_hash", "secret")

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.channel_id and self.channel.kind != "ota":
            raise ValidationError({"channel": _("A partner sells on a channel of kind OTA.")})
        if self.kind == self.Kind.OTA and not self.connector:
            raise ValidationError({"connector": _("An OTA platform needs a connector.")})
        if self.kind == self.Kind.OTA and not self.secret:
            raise ValidationError({"secret": _("An OTA platform needs a shared secret.")})
        if self.webhook_url and not self.secret:
            raise ValidationError({"secret": _("Notices are signed: set a shared secret.")})


class PartnerBooking(models.Model):
    """An order a partner made, under the partner's own reference: the OCTO booking ``uuid`` or
    the OTA's order number. Unique per partner, so a retried create finds the same order."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="bookings"
    )
    reference = models.CharField(_("partner's reference"), max_length=64)
    reseller_reference = models.CharField(_("reseller reference"), max_length=100, blank=True)
    fingerprint = models.CharField(max_length=64, editable=False)
    order = models.OneToOneField(
        "sales.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        related_name="partner_booking",
    )
    option = models.CharField(max_length=40, default="DEFAULT")
    unit_uuids = models.JSONField(default=list, blank=True)
    contact = models.JSONField(default=dict, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("partner booking")
        verbose_name_plural = _("partner bookings")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "reference"], name="partnerbooking_unique_reference"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_id}:{self.reference}"


class PartnerWebhook(models.Model):
    """A notice URL an OCTO reseller registered itself (``POST /octo/webhooks``, the
    ``octo/webhooks`` capability): its events are delivered through the outbox like any notice,
    in OCTO's shape (``{"webhook": …, "booking": …}``)."""

    class Event(models.TextChoices):
        BOOKING_UPDATE = "booking_update", _("booking update")

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="webhooks"
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    url = models.URLField(_("URL"), max_length=300)
    capabilities = models.JSONField(default=list, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    retry_on_error = models.BooleanField(_("retry on error"), default=True)
    use_contact_language = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner webhook")
        verbose_name_plural = _("partner webhooks")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.event} → {self.url}"


class SeenRequest(models.Model):
    """A signed partner request already accepted: the same signature twice is a replay."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64)
    signed_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "signature"], name="seenrequest_unique")
        ]


class OutboxMessage(models.Model):
    """A call to make to the outside, written in the transaction of the change it tells of and
    delivered by ``admit worker`` (at least once; receivers de-duplicate on the message id)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("to deliver")
        DELIVERED = "delivered", _("delivered")
        DEAD = "dead", _("given up (dead letter)")

    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outbox",
    )
    topic = models.CharField(_("topic"), max_length=60)
    url = models.URLField(_("URL"), max_length=300)
    body = models.TextField(_("body"))
    headers = models.JSONField(default=dict, blank=True)  # the receiver's own, e.g. a token
    retry = models.BooleanField(_("retry on error"), default=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        permissions = [("retry_outboxmessage", _("Can retry dead outbox messages"))]

    def __str__(self) -> str:
        return f"#{self.pk} {self.topic}"
