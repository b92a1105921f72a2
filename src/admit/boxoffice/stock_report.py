"""The paper stock reconciliation (票证核对): what became of every numbered paper ticket.

Per batch and per cashier: received, in the store, issued, used, voided — figures that must add
up — every serial's fate as compressed ranges ("A0000001–A0000100 used by 李售票, shift #3"), and
every gap:

- *skipped*: a serial still issued to a cashier while a higher serial of the same batch was used
  by them after this one was issued to them (paper passed over, perhaps taken away);
- *out of order*: a serial used after a higher serial of the same batch had been used by the same
  cashier while this one was already in their hands;
- *missing*: a number of the batch's range with no serial row.

Everything is computed from the serial rows and the stock movements, never stored.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from admit.tickets.models import Ticket

from .models import StockBatch, StockMovement, StockSerial

S = StockSerial.Status
M = StockMovement.Kind


@dataclass
class Figures:
    received: int = 0
    in_store: int = 0
    issued: int = 0
    used: int = 0
    voided: int = 0

    @property
    def accounted(self) -> int:
        return self.in_store + self.issued + self.used + self.voided

    @property
    def balanced(self) -> bool:
        return self.received == self.accounted

    def add(self, other: Figures) -> None:
        self.received += other.received
        self.in_store += other.in_store
        self.issued += other.issued
        self.used += other.used
        self.voided += other.voided


@dataclass
class CashierFigures:
    """Paper one cashier was given and what became of it: issued = returned + held + used +
    voided (the paper they voided or that was voided while in their hands)."""

    cashier_id: int
    cashier: str
    issued: int = 0
    returned: int = 0
    held: int = 0
    used: int = 0
    voided: int = 0

    @property
    def accounted(self) -> int:
        return self.returned + self.held + self.used + self.voided

    @property
    def balanced(self) -> bool:
        return self.issued == self.accounted


@dataclass
class Run:
    """Consecutive serials with the same fate."""

    first: int
    last: int
    label: str
    status: str
    status_label: str
    holder: str = ""
    shift_id: int | None = None
    ticket_status: str = ""
    ticket_status_label: str = ""
    first_ticket: str = ""
    last_ticket: str = ""
    void_reason: str = ""

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    @property
    def text(self) -> str:
        if self.status == S.USED:
            out = _("%(range)s used by %(cashier)s, shift #%(shift)s") % {
                "range": self.label,
                "cashier": self.holder or "—",
                "shift": self.shift_id or "—",
            }
            if self.ticket_status and self.ticket_status != "valid":
                out += f" ({_('ticket')}: {self.ticket_status_label})"
            return out
        if self.status == S.ISSUED:
            return _("%(range)s issued to %(cashier)s") % {
                "range": self.label,
                "cashier": self.holder,
            }
        if self.status == S.VOIDED:
            return _("%(range)s voided: %(reason)s") % {
                "range": self.label,
                "reason": self.void_reason,
            }
        return _("%(range)s in the store") % {"range": self.label}


@dataclass
class Gap:
    kind: str  # skipped, out_of_order, missing
    first: int
    last: int
    label: str
    cashier: str = ""
    note: str = ""

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    @property
    def kind_label(self) -> str:
        return {
            "skipped": _("skipped (still issued, a higher number was used)"),
            "out_of_order": _("used out of order"),
            "missing": _("missing from the batch"),
        }[self.kind]


@dataclass
class BatchReport:
    batch: StockBatch
    figures: Figures
    cashiers: list[CashierFigures]
    runs: list[Run] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.figures.balanced and all(c.balanced for c in self.cashiers)


def _users(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    return {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=wanted)}


def range_label(batch: StockBatch, first: int, last: int) -> str:
    """ "A0000001–A0000100", or one serial."""
    if first == last:
        return batch.serial_of(first)
    return f"{batch.serial_of(first)}–{batch.serial_of(last)}"


def runs_of(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Numbers as contiguous (first, last) runs."""
    out: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


# --- Figures ----------------------------------------------------------------------------------


def batch_figures(batches: QuerySet[StockBatch] | Iterable[StockBatch]) -> dict[int, Figures]:
    """Received (the batch's range), in store, issued, used and voided per batch."""
    batches = list(batches)
    out = {b.pk: Figures(received=b.last_number - b.first_number + 1) for b in batches}
    rows = (
        StockSerial.objects.filter(batch__in=[b.pk for b in batches])
        .values("batch_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        setattr(out[row["batch_id"]], str(row["status"]), row["n"])
    return out


def cashier_figures(batch: StockBatch | None = None) -> list[CashierFigures]:
    """Per cashier, within one batch or over every batch."""
    serials = StockSerial.objects.filter(holder__isnull=False)
    moves = StockMovement.objects.filter(kind__in=[M.ISSUE, M.RETURN], cashier__isnull=False)
    if batch is not None:
        serials = serials.filter(batch=batch)
        moves = moves.filter(batch=batch)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in serials.values("holder_id", "status").annotate(n=Count("id")).order_by():
        counts[row["holder_id"]][str(row["status"])] += row["n"]
    for row in moves.values("cashier_id", "kind").annotate(n=Sum("count")).order_by():
        counts[row["cashier_id"]]["m_" + str(row["kind"])] += row["n"] or 0
    names = _users(counts)
    return sorted(
        (
            CashierFigures(
                cashier_id=cid,
                cashier=names.get(cid, str(cid)),
                issued=c["m_issue"],
                returned=c["m_return"],
                held=c[S.ISSUED],
                used=c[S.USED],
                voided=c[S.VOIDED],
            )
            for cid, c in counts.items()
        ),
        key=lambda c: c.cashier,
    )


def overview() -> tuple[list[tuple[StockBatch, Figures]], Figures]:
    """Every batch with its figures, and the totals."""
    batches = list(
        StockBatch.objects.select_related("site", "product").order_by("-received_at", "code")
    )
    figures = batch_figures(batches)
    total = Figures()
    for f in figures.values():
        total.add(f)
    return [(b, figures[b.pk]) for b in batches], total


# --- Fates ------------------------------------------------------------------------------------


def serial_runs(batch: StockBatch) -> list[Run]:
    """Every serial of the batch, consecutive ones with the same fate as one range."""
    rows = (
        StockSerial.objects.filter(batch=batch)
        .order_by("number")
        .values_list(
            "number",
            "status",
            "holder_id",
            "shift_id",
            "ticket__status",
            "ticket__serial",
            "void_reason",
        )
    )
    holders = _users(
        StockSerial.objects.filter(batch=batch, holder__isnull=False)
        .values_list("holder_id", flat=True)
        .distinct()
    )
    status_labels = dict(S.choices)
    ticket_labels = dict(Ticket.Status.choices)
    runs: list[Run] = []
    key: tuple[Any, ...] | None = None
    for number, status, holder, shift, t_status, t_serial, reason in rows.iterator(chunk_size=5000):
        this = (status, holder, shift, t_status or "", reason)
        if runs and this == key and number == runs[-1].last + 1:
            runs[-1].last = number
            runs[-1].last_ticket = t_serial or ""
            continue
        key = this
        runs.append(
            Run(
                first=number,
                last=number,
                label="",
                status=status,
                status_label=str(status_labels.get(status, status)),
                holder=holders.get(holder, "") if holder else "",
                shift_id=shift,
                ticket_status=t_status or "",
                ticket_status_label=str(ticket_labels.get(t_status, t_status or "")),
                first_ticket=t_serial or "",
                last_ticket=t_serial or "",
                void_reason=reason,
            )
        )
    for run in runs:
        run.label = range_label(batch, run.first, run.last)
    return runs


# --- Gaps -------------------------------------------------------------------------------------


def _latest_issue(issues: list[tuple[int, int, int]], number: int, before: int | None) -> int:
    """The id of the latest issue movement (before ``before``) that handed ``number`` over."""
    for mid, lo, hi in reversed(issues):
        if lo <= number <= hi and (before is None or mid < before):
            return mid
    return 0


def gaps(batch: StockBatch) -> list[Gap]:
    out: list[Gap] = []
    expected = batch.last_number - batch.first_number + 1
    if StockSerial.objects.filter(batch=batch).count() != expected:
        present = set(StockSerial.objects.filter(batch=batch).values_list("number", flat=True))
        absent = (n for n in range(batch.first_number, batch.last_number + 1) if n not in present)
        for lo, hi in runs_of(absent):
            out.append(Gap("missing", lo, hi, range_label(batch, lo, hi)))
    issues: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    uses: dict[int, list[tuple[int, int]]] = defaultdict(list)
    moves = StockMovement.objects.filter(
        batch=batch, kind__in=[M.ISSUE, M.USE], cashier__isnull=False
    ).order_by("id")
    for mid, kind, cashier, lo, hi in moves.values_list(
        "id", "kind", "cashier_id", "first_number", "last_number"
    ):
        if kind == M.ISSUE:
            issues[cashier].append((mid, lo, hi))
        else:
            uses[cashier].append((mid, lo))
    held: dict[int, list[int]] = defaultdict(list)
    for holder, number in (
        StockSerial.objects.filter(batch=batch, status=S.ISSUED)
        .order_by("number")
        .values_list("holder_id", "number")
    ):
        held[holder].append(number)
    names = _users([*issues, *held])
    for cashier in sorted(set(issues) | set(held), key=lambda c: names.get(c, "")):
        cashier_uses = uses.get(cashier, [])
        cashier_issues = issues.get(cashier, [])
        use_ids = [u for u, _n in cashier_uses]
        # suffix[i]: the highest number used at or after the i-th use.
        suffix = [0] * (len(cashier_uses) + 1)
        for i in range(len(cashier_uses) - 1, -1, -1):
            suffix[i] = max(suffix[i + 1], cashier_uses[i][1])
        skipped: list[int] = []
        for number in held.get(cashier, []):
            since = _latest_issue(cashier_issues, number, None)
            start = bisect_right(use_ids, since)
            if start < len(cashier_uses) and suffix[start] > number:
                skipped.append(number)
        for lo, hi in runs_of(skipped):
            out.append(
                Gap("skipped", lo, hi, range_label(batch, lo, hi), cashier=names.get(cashier, ""))
            )
        # A use is out of order when, since its serial was handed over, a higher one was used.
        for issue_id, first, last in cashier_issues:
            highest = 0
            for use_id, number in cashier_uses:
                if use_id <= issue_id:
                    continue
                if (
                    highest > number
                    and first <= number <= last
                    and _latest_issue(cashier_issues, number, use_id) == issue_id
                ):
                    out.append(
                        Gap(
                            "out_of_order",
                            number,
                            number,
                            batch.serial_of(number),
                            cashier=names.get(cashier, ""),
                            note=_("used after %(serial)s") % {"serial": batch.serial_of(highest)},
                        )
                    )
                highest = max(highest, number)
    return out


def batch_report(batch: StockBatch) -> BatchReport:
    return BatchReport(
        batch=batch,
        figures=batch_figures([batch])[batch.pk],
        cashiers=cashier_figures(batch),
        runs=serial_runs(batch),
        gaps=gaps(batch),
    )


def problems() -> list[str]:
    """Figures that do not add up, for tests and checks: empty when all is well."""
    out: list[str] = []
    batches = list(StockBatch.objects.order_by("code"))
    figures = batch_figures(batches)
    for b in batches:
        f = figures[b.pk]
        if not f.balanced:
            out.append(f"batch {b.code}: received {f.received} ≠ {f.accounted}")
    for c in cashier_figures():
        if not c.balanced:
            out.append(f"cashier {c.cashier}: issued {c.issued} ≠ {c.accounted}")
    bad = StockSerial.objects.filter(
        Q(status=S.IN_STORE, holder__isnull=False)
        | Q(status=S.ISSUED, holder__isnull=True)
        | Q(status=S.USED, ticket__isnull=True)
        | ~Q(status=S.USED) & Q(ticket__isnull=False)
    ).values_list("serial", flat=True)[:10]
    out.extend(f"serial {s}: status and holder or ticket disagree" for s in bad)
    return out
