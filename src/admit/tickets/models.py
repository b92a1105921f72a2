"""Tickets (门票): one right of entry, for one or several persons, one or several entries."""

from __future__ import annotations

import base64

from django.db import models
from django.utils.translation import gettext_lazy as _

from admit.core.models import AppendOnlyModel
from admit.core.text import mask


class Ticket(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", _("valid")
        USED = "used", _("used up")
        REFUNDED = "refunded", _("refunded")
        EXCHANGED = "exchanged", _("exchanged (date changed)")
        VOIDED = "voided", _("voided")
        FROZEN = "frozen", _("frozen (pass)")
        # Not a ticket's status: a revocation row that lifts an earlier one (a pass unfrozen).
        REINSTATED = "reinstated", _("reinstated")

    # Tickets whose price still counts toward what the order is worth.
    LIVE = (Status.VALID, Status.USED, Status.FROZEN)

    serial = models.CharField(_("ticket number"), max_length=20, unique=True)
    order = models.ForeignKey(
        "sales.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="tickets"
    )
    line = models.ForeignKey(
        "sales.OrderLine",
        verbose_name=_("order line"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    site = models.ForeignKey("catalog.Site", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.VALID
    )
    persons = models.PositiveSmallIntegerField(_("persons"), default=1)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    slot_start = models.TimeField(_("slot start"), null=True, blank=True)
    slot_end = models.TimeField(_("slot end"), null=True, blank=True)
    entries_allowed = models.PositiveIntegerField(_("entries allowed"), null=True, blank=True)
    entries_used = models.PositiveIntegerField(_("entries used"), default=0)
    holder_name = models.CharField(_("holder"), max_length=100, blank=True)
    code = models.CharField(_("ticket code"), max_length=160, blank=True, editable=False)
    holder_id_number = models.CharField(
        _("holder ID number"), max_length=40, blank=True, db_index=True
    )
    holder_pass = models.ForeignKey(
        "customers.Pass",
        verbose_name=_("pass"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)
    changed_at = models.DateTimeField(_("status changed"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["order", "id"]
        indexes = [models.Index(fields=["site", "valid_from"])]

    def __str__(self) -> str:
        return self.serial


class SigningKey(models.Model):
    """An Ed25519 key that signs ticket codes. The private half is stored encrypted with a key
    derived from ``ADMIT_SECRET_KEY``; the public half goes to gates. Retired keys no longer
    verify; the current key signs new codes."""

    key_id = models.PositiveIntegerField(_("key id"), unique=True)
    public_key = models.BinaryField(_("public key"), max_length=32)
    private_key = models.BinaryField(max_length=80, editable=False)
    is_current = models.BooleanField(_("signs new tickets"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["-key_id"]

    def __str__(self) -> str:
        return f"key {self.key_id}"

    @property
    def public_key_b64(self) -> str:
        """The 32 raw bytes of the public key (RFC 8032) in base64, as gates are given it."""
        return base64.b64encode(bytes(self.public_key)).decode("ascii")


class TicketMedium(models.Model):
    """A medium other than the printed code bound to a ticket (介质): an RFID/IC card's UID, an
    ID card number for real-name entry, or a token of an external face system. A gate looks the
    ticket up by it. Real-name tickets are found by their holder's ID number without a binding."""

    class Kind(models.TextChoices):
        CARD = "card", _("RFID/IC card")
        ID_CARD = "id_card", _("ID card")
        FACE = "face", _("face")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="media"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=64)
    # The value while bound, NULL once unbound: one ticket holds a medium once at a time.
    active_value = models.CharField(max_length=64, null=True, blank=True, editable=False)
    bound_at = models.DateTimeField(_("bound"), auto_now_add=True)
    unbound_at = models.DateTimeField(_("unbound"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket medium")
        verbose_name_plural = _("ticket media")
        ordering = ["-bound_at"]
        indexes = [models.Index(fields=["kind", "active_value"])]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind", "active_value"], name="ticketmedium_bound_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.masked}"

    @property
    def masked(self) -> str:
        return mask(self.value)


class Revocation(AppendOnlyModel):
    """A ticket that gates must refuse from now on (refunded, exchanged or voided). Append-only;
    its id is the cursor of the revocation list that offline gates fetch."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="revocations")
    site = models.ForeignKey("catalog.Site", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Ticket.Status.choices)
    valid_until = models.DateField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("revocation")
        verbose_name_plural = _("revocations")
        ordering = ["id"]
        indexes = [models.Index(fields=["site", "id"])]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.status}"
