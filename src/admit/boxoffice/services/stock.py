"""Paper ticket stock (票证库存): receiving numbered paper, issuing it to cashiers, returning and
voiding it, and binding a serial to each ticket sold.

Every step changes ``StockSerial.status`` with one conditional UPDATE (``… WHERE status = the
status it must have``), so two people or two terminals acting at once can never both move the
same serial, and writes one ``StockMovement`` row per range and an audit entry.

Selling takes the cashier's serials in a fixed order — batch by batch, lowest number first — and
never goes back to a lower number within one call, so concurrent calls lock rows in one order and
cannot deadlock; a serial lost to another terminal is skipped and the next one tried.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from admit.accounts.rights import has
from admit.catalog.models import Product, Site
from admit.core.audit import snapshot
from admit.core.errors import PermissionDenied
from admit.core.services import actor_label, audit_record
from admit.tickets.models import Ticket

from ..errors import (
    NotACashier,
    NotYourShift,
    ShiftNotOpen,
    StockBatchExists,
    StockBatchInvalid,
    StockEmpty,
    StockNotInStore,
    StockNotIssued,
    StockNotYours,
    StockOutsideBatch,
    StockOverlap,
    StockRangeInvalid,
    StockRangeTooLarge,
    StockSerialNotFound,
    StockUsed,
    StockVoided,
    StockWrongProduct,
    TicketHasPaper,
    TicketNotValid,
    VoidReasonRequired,
)
from ..models import Shift, StockBatch, StockMovement, StockSerial
from ..stock_report import range_label, runs_of

MAX_RANGE = 1_000_000
MAX_NUMBER = 2_147_483_647  # a PositiveIntegerField on every database
CHUNK = 5_000
CANDIDATES = 50
CODE_RE = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")
PREFIX_RE = re.compile(r"^[A-Za-z0-9-]{0,8}$")

Status = StockSerial.Status


# --- Helpers ----------------------------------------------------------------------------------


def _require(user: Any, perm: str) -> None:
    if not has(user, perm):
        raise PermissionDenied(details={"needs": [perm]})


def _number(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise StockRangeInvalid(details={field: str(value)})
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit()):
            raise StockRangeInvalid(details={field: value[:40]})
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise StockRangeInvalid(details={field: str(value)[:40]}) from exc
    if number < 0 or number > MAX_NUMBER:
        raise StockRangeInvalid(details={field: str(value)[:40]})
    return number


def _range(first: Any, last: Any) -> tuple[int, int]:
    lo, hi = _number(first, "first_number"), _number(last, "last_number")
    if hi < lo:
        raise StockRangeInvalid(details={"first_number": lo, "last_number": hi})
    if hi - lo + 1 > MAX_RANGE:
        raise StockRangeTooLarge(details={"count": hi - lo + 1, "max": MAX_RANGE})
    return lo, hi


def _in_batch(batch: StockBatch, first: Any, last: Any) -> tuple[int, int]:
    lo, hi = _range(first, last)
    if lo < batch.first_number or hi > batch.last_number:
        raise StockOutsideBatch(
            details={
                "batch": batch.code,
                "batch_first": batch.first_number,
                "batch_last": batch.last_number,
            }
        )
    return lo, hi


def _offenders(batch: StockBatch, lo: int, hi: int, wanted: str) -> list[str]:
    """The first serials in the range that do not have the status ``wanted``."""
    rows = (
        StockSerial.objects.filter(batch=batch, number__gte=lo, number__lte=hi)
        .exclude(status=wanted)
        .order_by("number")
        .values_list("serial", "status")[:10]
    )
    return [f"{serial} ({status})" for serial, status in rows]


def _movement(
    batch: StockBatch, kind: str, lo: int, hi: int, count: int, actor: Any, **extra: Any
) -> StockMovement:
    return StockMovement(
        batch=batch,
        kind=kind,
        first_number=lo,
        last_number=hi,
        count=count,
        actor_label=actor_label(actor)[:150],
        **extra,
    )


def _batch_locked(batch: StockBatch) -> StockBatch:
    # Serialises issues and returns of one batch (the rows' own updates are conditional anyway).
    return StockBatch.objects.select_for_update().get(pk=batch.pk)


# --- Receiving, issuing, returning, voiding ------------------------------------------------------


def stock_receive(
    *,
    site: Site,
    code: str,
    first_number: int | str,
    last_number: int | str,
    prefix: str = "",
    digits: int | str = 7,
    product: Product | None = None,
    actor: Any,
    note: str = "",
    now: dt.datetime | None = None,
) -> StockBatch:
    """Receive a batch of numbered paper into the store (入库): one ``StockSerial`` per number.
    Numbers of the same prefix may be received only once, in whichever batch."""
    _require(actor, "boxoffice.add_stockbatch")
    code = (code or "").strip()
    prefix = (prefix or "").strip()
    if not CODE_RE.match(code) or not PREFIX_RE.match(prefix):
        raise StockBatchInvalid(details={"code": code[:40], "prefix": prefix[:8]})
    if product is not None and product.site_id != site.pk:
        raise StockBatchInvalid(details={"product": product.pk, "site": site.pk})
    lo, hi = _range(first_number, last_number)
    width = _number(digits, "digits")
    if not 1 <= width <= 12 or len(str(hi)) > width:
        raise StockRangeInvalid(details={"digits": width, "last_number": hi})
    now = now or timezone.now()
    try:
        with transaction.atomic():
            if StockBatch.objects.filter(code=code).exists():
                raise StockBatchExists(details={"code": code})
            overlap = (
                StockBatch.objects.filter(prefix=prefix, first_number__lte=hi, last_number__gte=lo)
                .order_by("first_number")
                .first()
            )
            if overlap is not None:
                raise StockOverlap(details={"batch": overlap.code, "range": str(overlap)})
            batch = StockBatch.objects.create(
                code=code,
                site=site,
                product=product,
                prefix=prefix,
                first_number=lo,
                last_number=hi,
                digits=width,
                received_at=now,
                received_by=actor,
                note=(note or "")[:200],
            )
            for start in range(lo, hi + 1, CHUNK):
                StockSerial.objects.bulk_create(
                    [
                        StockSerial(batch=batch, number=n, serial=batch.serial_of(n))
                        for n in range(start, min(start + CHUNK, hi + 1))
                    ],
                    batch_size=1000,
                )
            _movement(batch, StockMovement.Kind.RECEIVE, lo, hi, hi - lo + 1, actor).save()
            audit_record(
                actor=actor,
                action="create",
                obj=batch,
                verb="stock_receive",
                after=snapshot(batch),
            )
    except IntegrityError as exc:  # a serial string or the code taken by someone at this moment
        raise StockOverlap(details={"range": f"{prefix}{lo}–{prefix}{hi}"}) from exc
    return batch


def stock_issue(
    *,
    batch: StockBatch,
    first_number: int | str,
    last_number: int | str,
    cashier: Any,
    actor: Any,
    now: dt.datetime | None = None,
) -> int:
    """Issue a range of paper in the store to a cashier (领用), all of it or nothing."""
    _require(actor, "boxoffice.change_stockbatch")
    if cashier is None or not cashier.is_active or not has(cashier, "boxoffice.sell_at_window"):
        raise NotACashier(details={"cashier": str(cashier) if cashier is not None else ""})
    lo, hi = _in_batch(batch, first_number, last_number)
    now = now or timezone.now()
    with transaction.atomic():
        batch = _batch_locked(batch)
        bad = _offenders(batch, lo, hi, Status.IN_STORE)
        if bad:
            raise StockNotInStore(details={"serials": bad})
        done = StockSerial.objects.filter(
            batch=batch, number__gte=lo, number__lte=hi, status=Status.IN_STORE
        ).update(status=Status.ISSUED, holder=cashier, shift=None, changed_at=now)
        if done != hi - lo + 1:  # numbers missing from the batch
            raise StockNotInStore(details={"expected": hi - lo + 1, "found": done})
        _movement(batch, StockMovement.Kind.ISSUE, lo, hi, done, actor, cashier=cashier).save()
        audit_record(
            actor=actor,
            action="action",
            obj=batch,
            verb="stock_issue",
            note=f"{range_label(batch, lo, hi)} → {cashier}",
        )
    return done


def stock_return(
    *,
    batch: StockBatch,
    first: int | str,
    last: int | str,
    actor: Any,
    now: dt.datetime | None = None,
) -> int:
    """Take unused paper back from the cashiers who hold it into the store (退回), all of the
    range or nothing."""
    _require(actor, "boxoffice.change_stockbatch")
    lo, hi = _in_batch(batch, first, last)
    now = now or timezone.now()
    with transaction.atomic():
        batch = _batch_locked(batch)
        bad = _offenders(batch, lo, hi, Status.ISSUED)
        if bad:
            raise StockNotIssued(details={"serials": bad})
        rows = list(
            StockSerial.objects.filter(batch=batch, number__gte=lo, number__lte=hi)
            .order_by("number")
            .values_list("number", "holder_id")
        )
        if len(rows) != hi - lo + 1:
            raise StockNotIssued(details={"expected": hi - lo + 1, "found": len(rows)})
        by_holder: dict[int, list[int]] = {}
        for number, holder in rows:
            by_holder.setdefault(holder, []).append(number)
        done = StockSerial.objects.filter(
            batch=batch, number__gte=lo, number__lte=hi, status=Status.ISSUED
        ).update(status=Status.IN_STORE, holder=None, changed_at=now)
        if done != len(rows):
            raise StockNotIssued(details={"expected": len(rows), "found": done})
        movements = [
            _movement(batch, StockMovement.Kind.RETURN, a, b, b - a + 1, actor, cashier_id=holder)
            for holder, numbers in sorted(by_holder.items())
            for a, b in runs_of(numbers)
        ]
        StockMovement.objects.bulk_create(movements)
        audit_record(
            actor=actor,
            action="action",
            obj=batch,
            verb="stock_return",
            note=range_label(batch, lo, hi),
        )
    return done


def stock_void(
    *, serial: StockSerial, reason: str, actor: Any, now: dt.datetime | None = None
) -> StockSerial:
    """Void one paper ticket in the store or issued (作废), with a reason: torn, jammed in the
    printer, lost. The store voids any; a cashier voids paper issued to them. Paper handed out
    with a ticket is never voided (refund the ticket instead)."""
    reason = (reason or "").strip()
    if not reason:
        raise VoidReasonRequired()
    now = now or timezone.now()
    with transaction.atomic():
        current = StockSerial.objects.select_related("batch").filter(pk=serial.pk).first()
        if current is None:
            raise StockSerialNotFound(details={"serial": str(serial)[:24]})
        own = current.holder_id is not None and current.holder_id == getattr(actor, "pk", None)
        if not own:
            _require(actor, "boxoffice.change_stockserial")
        if current.status == Status.USED:
            raise StockUsed(details={"serial": current.serial})
        if current.status == Status.VOIDED:
            raise StockVoided(details={"serial": current.serial})
        done = StockSerial.objects.filter(
            pk=current.pk, status=current.status, holder_id=current.holder_id
        ).update(status=Status.VOIDED, void_reason=reason[:200], changed_at=now)
        if done != 1:  # changed by someone else at this moment
            raise StockNotIssued(details={"serial": current.serial})
        before = snapshot(current)
        current.refresh_from_db()
        _movement(
            current.batch,
            StockMovement.Kind.VOID,
            current.number,
            current.number,
            1,
            actor,
            cashier_id=current.holder_id,
            reason=reason[:200],
        ).save()
        audit_record(
            actor=actor,
            action="action",
            obj=current,
            verb="stock_void",
            before=before,
            after=snapshot(current),
            note=reason,
        )
    return current


# --- Selling --------------------------------------------------------------------------------


def _own_open_shift(shift: Shift, actor: Any) -> Shift:
    current = Shift.objects.select_related("terminal").get(pk=shift.pk)
    if current.status != Shift.Status.OPEN:
        raise ShiftNotOpen(details={"shift": current.pk, "status": current.status})
    if current.cashier_id != getattr(actor, "pk", None):
        raise NotYourShift(details={"shift": current.pk})
    return current


def _check_tickets(tickets: Sequence[Ticket]) -> None:
    for t in tickets:
        if t.status != Ticket.Status.VALID:
            raise TicketNotValid(details={"ticket": t.serial, "status": t.status})
    ids = [t.pk for t in tickets]
    if len(set(ids)) != len(ids):
        raise TicketHasPaper(details={"tickets": ids})
    bound = list(
        StockSerial.objects.filter(ticket_id__in=ids).values_list("serial", "ticket__serial")[:10]
    )
    if bound:
        raise TicketHasPaper(details={"bound": [f"{t} → {s}" for s, t in bound]})


def _take(
    *, shift: Shift, site_id: int, pool: int | None, tickets: list[Ticket], now: dt.datetime
) -> list[tuple[Ticket, int, int, int]]:
    """Bind the next serials of one kind of paper to ``tickets``: (ticket, serial id, batch id,
    number) each. Rows are tried in (batch, number) order and never a lower one twice."""
    stock = StockSerial.objects.filter(
        holder_id=shift.cashier_id, status=Status.ISSUED, batch__site_id=site_id
    )
    stock = (
        stock.filter(batch__product__isnull=True)
        if pool is None
        else stock.filter(batch__product_id=pool)
    )
    taken: list[tuple[Ticket, int, int, int]] = []
    after: tuple[int, int] | None = None
    queue: list[tuple[int, int, int]] = []
    for ticket in tickets:
        while True:
            if not queue:
                rows = stock
                if after is not None:
                    b, n = after
                    rows = rows.filter(Q(batch_id__gt=b) | Q(batch_id=b, number__gt=n))
                queue = list(
                    rows.order_by("batch_id", "number").values_list("pk", "batch_id", "number")[
                        :CANDIDATES
                    ]
                )
                if not queue:
                    raise StockEmpty(
                        details={"ticket": ticket.serial, "product": ticket.product_id}
                    )
            pk, batch_id, number = queue.pop(0)
            after = (batch_id, number)
            won = StockSerial.objects.filter(
                pk=pk, status=Status.ISSUED, holder_id=shift.cashier_id
            ).update(status=Status.USED, ticket=ticket, shift=shift, changed_at=now)
            if won:  # else another terminal of this cashier took it first: try the next one
                taken.append((ticket, pk, batch_id, number))
                break
    return taken


def _record_use(
    shift: Shift, taken: list[tuple[Ticket, int, int, int]], actor: Any, verb: str
) -> list[StockSerial]:
    batches = {b.pk: b for b in StockBatch.objects.filter(pk__in={t[2] for t in taken})}
    StockMovement.objects.bulk_create(
        [
            _movement(
                batches[batch_id],
                StockMovement.Kind.USE,
                number,
                number,
                1,
                actor,
                cashier_id=shift.cashier_id,
                shift=shift,
                ticket=ticket,
            )
            for ticket, _pk, batch_id, number in taken
        ]
    )
    audit_record(
        actor=actor,
        action="action",
        obj=shift,
        verb=verb,
        note=", ".join(f"{batches[b].serial_of(n)} → {t.serial}" for t, _pk, b, n in taken)[:2000],
    )
    serials = StockSerial.objects.select_related("batch").in_bulk([t[1] for t in taken])
    return [serials[t[1]] for t in taken]


def stock_use(
    *,
    shift: Shift,
    tickets: Sequence[Ticket],
    actor: Any,
    product: Product | None = None,
    now: dt.datetime | None = None,
) -> list[StockSerial]:
    """Bind the cashier's next paper serial to each ticket (in the order given) and mark it
    used. A ticket takes paper pre-printed for its product when the cashier holds some, else
    blank paper; ``product`` asks for paper pre-printed for that product for every ticket.
    Raises ``stock_empty`` (and binds nothing) when the cashier has too little paper: the
    caller decides whether printing without stock is allowed."""
    tickets = list(tickets)
    if not tickets:
        return []
    now = now or timezone.now()
    try:
        with transaction.atomic():
            shift = _own_open_shift(shift, actor)
            _check_tickets(tickets)
            site_id = shift.terminal.site_id
            if product is not None:
                pools: dict[Ticket, int | None] = {t: product.pk for t in tickets}
            else:
                held = set(
                    StockSerial.objects.filter(
                        holder_id=shift.cashier_id,
                        status=Status.ISSUED,
                        batch__site_id=site_id,
                        batch__product__isnull=False,
                    )
                    .values_list("batch__product_id", flat=True)
                    .distinct()
                )
                pools = {t: t.product_id if t.product_id in held else None for t in tickets}
            taken: dict[int, tuple[Ticket, int, int, int]] = {}
            # One kind of paper after the other, in a fixed order: locks are taken in one order.
            for pool in sorted(set(pools.values()), key=lambda p: -1 if p is None else p):
                wanted = [t for t in tickets if pools[t] == pool]
                for row in _take(shift=shift, site_id=site_id, pool=pool, tickets=wanted, now=now):
                    taken[row[0].pk] = row
            return _record_use(shift, [taken[t.pk] for t in tickets], actor, "stock_use")
    except IntegrityError as exc:  # the same ticket bound by another terminal at this moment
        raise TicketHasPaper(details={"tickets": [t.serial for t in tickets]}) from exc


def stock_activate(
    *,
    shift: Shift,
    ticket: Ticket,
    serial: StockSerial | str,
    actor: Any,
    now: dt.datetime | None = None,
) -> StockSerial:
    """Bind a serial scanned from a pre-printed ticket to a ticket just sold (条码激活售票): the
    serial must be issued to this cashier, unused, of the terminal's site and, if pre-printed
    for a product, for the ticket's."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            shift = _own_open_shift(shift, actor)
            _check_tickets([ticket])
            if isinstance(serial, StockSerial):
                found = StockSerial.objects.select_related("batch").filter(pk=serial.pk).first()
            else:
                text = (serial or "").strip()[:24]
                found = StockSerial.objects.select_related("batch").filter(serial=text).first()
            if found is None:
                raise StockSerialNotFound(details={"serial": str(serial)[:24]})
            if found.status == Status.USED:
                raise StockUsed(details={"serial": found.serial})
            if found.status == Status.VOIDED:
                raise StockVoided(details={"serial": found.serial})
            if found.status != Status.ISSUED:
                raise StockNotIssued(details={"serial": found.serial, "status": found.status})
            if found.holder_id != shift.cashier_id or found.batch.site_id != (
                shift.terminal.site_id
            ):
                raise StockNotYours(details={"serial": found.serial})
            if found.batch.product_id is not None and found.batch.product_id != ticket.product_id:
                raise StockWrongProduct(
                    details={"serial": found.serial, "product": found.batch.product_id}
                )
            won = StockSerial.objects.filter(
                pk=found.pk, status=Status.ISSUED, holder_id=shift.cashier_id
            ).update(status=Status.USED, ticket=ticket, shift=shift, changed_at=now)
            if not won:  # used or voided at this very moment
                raise StockUsed(details={"serial": found.serial})
            row = (ticket, found.pk, found.batch_id, found.number)
            return _record_use(shift, [row], actor, "stock_activate")[0]
    except IntegrityError as exc:
        raise TicketHasPaper(details={"ticket": ticket.serial}) from exc
