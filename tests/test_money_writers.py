"""Every payment and refund is announced to the reports: the rows are written in one place,
``money_record``, which publishes ``MONEY_MOVED`` (the takings aggregates listen to it). A row
written any other way would be money the business-day summary never shows, so the other ways
are closed: ``save()`` (and so ``objects.create``) refuses, and no code outside
``money_record`` inserts a ``Payment`` or ``Refund`` in bulk (checked over the source's syntax
tree). ``gen-history`` copies rows and their aggregates together, by table, and is outside this
rule by design."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from admit.sales.models import Order, Payment, Refund

SRC = Path(__file__).resolve().parent.parent / "src" / "admit"
MODELS = {"Payment", "Refund"}
WRITERS = {"create", "bulk_create", "get_or_create", "update_or_create", "insert"}


def money_writes(tree: ast.AST) -> list[tuple[str, int]]:
    """(function, line) of each write of a Payment or Refund outside ``money_record``."""
    found: list[tuple[str, int]] = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) or fn.name == "money_record":
            continue
        made = {  # names bound to Payment(...) / Refund(...) in this function
            t.id
            for node in ast.walk(fn)
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id in MODELS
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in WRITERS:
                continue
            # Payment.objects.create(...), Refund.objects.bulk_create(...)
            receiver = func.value if isinstance(func, ast.Attribute) else None
            if (
                isinstance(receiver, ast.Attribute)
                and receiver.attr == "objects"
                and isinstance(receiver.value, ast.Name)
                and receiver.value.id in MODELS
            ):
                found.append((fn.name, node.lineno))
                continue
            # insert([payment]), bulk_create([Refund(...)]): a row made here, written here
            for arg in node.args:
                for sub in ast.walk(arg):
                    if (isinstance(sub, ast.Name) and sub.id in made) or (
                        isinstance(sub, ast.Call)
                        and isinstance(sub.func, ast.Name)
                        and sub.func.id in MODELS
                    ):
                        found.append((fn.name, node.lineno))
                        break
    return found


def test_no_code_but_money_record_writes_a_payment_or_a_refund():
    offenders = []
    files = [p for p in SRC.rglob("*.py") if "migrations" not in p.parts]
    assert len(files) > 100
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders += [f"{path.relative_to(SRC)}:{line} in {fn}" for fn, line in money_writes(tree)]
    assert offenders == [], "write payments and refunds with money_record:\n" + "\n".join(offenders)


def test_the_check_finds_each_way_of_writing_around_money_record():
    sneaky = """
def direct(order):
    return Payment.objects.create(order=order, method="cash", amount=1)

def in_bulk(order):
    Refund.objects.bulk_create([Refund(order=order)])

def raw(order):
    row = Payment(order=order, method="cash", amount=1)
    insert([row])

def money_record(order, row):
    insert([row])

def fine(order):
    row = Payment(order=order, method="cash", amount=1)
    money_record(order, row)
"""
    found = money_writes(ast.parse(sneaky))
    assert [fn for fn, _line in found] == ["direct", "in_bulk", "raw"]


def test_save_refuses_so_objects_create_cannot_skip_the_reports(db):
    with pytest.raises(TypeError, match="money_record"):
        Payment.objects.create(order=Order(pk=1), method="cash", amount=1)
    with pytest.raises(TypeError, match="money_record"):
        Refund(order_id=1, payment_id=1, method="cash", amount=1).save()
