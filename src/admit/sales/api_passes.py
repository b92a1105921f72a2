"""Passes over the HTTP API: sell to a member, renew, replace a lost card, freeze and thaw."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from admit.accounts.rights import require
from admit.catalog.models import Product
from admit.core.schemas import Id
from admit.core.text import mask
from admit.customers.api import once
from admit.customers.errors import MemberNotFound
from admit.customers.models import Member, Pass
from admit.customers.selectors import account_id_of

from . import errors
from .services import passes

router = Router(tags=["passes"])


class PaymentChoice(Schema):
    method: str = Field("cash", max_length=16, examples=["cash", "card"])
    tendered: Decimal | None = Field(None, max_digits=12, decimal_places=2)


class PassIn(PaymentChoice):
    member: str = Field(max_length=20, description="Member number")
    product: Id
    card_uid: str = Field("", max_length=32)


class CardIn(PaymentChoice):
    card_uid: str = Field(max_length=32)
    fee_product: Id | None = None


class FreezeIn(Schema):
    reason: str = Field("", max_length=200)


def pass_out(p: Pass) -> dict[str, Any]:
    return {
        "number": p.number,
        "member": p.member.number,
        "holder": p.member.name,
        "product": p.product_id,
        "status": p.status,
        "valid_from": p.valid_from.isoformat(),
        "valid_until": p.valid_until.isoformat(),
        "card": mask(p.card_uid) if p.card_uid else None,
        "cards_replaced": p.replacements,
        "periods": [
            {
                "ticket": t.serial,
                "status": t.status,
                "valid_from": t.valid_from.isoformat() if t.valid_from else None,
                "valid_until": t.valid_until.isoformat() if t.valid_until else None,
                "entries_used": t.entries_used,
                "media": [
                    {"kind": m.kind, "value": m.masked}
                    for m in t.media.all()
                    if m.active_value is not None
                ],
            }
            for t in p.tickets.order_by("valid_from", "id").prefetch_related("media")
        ],
    }


def _pass(request: HttpRequest, number: str, *perms: str) -> tuple[Any, Pass]:
    """The pass named by ``number``. Passes belong to the venue's members: to an agency's own
    user every pass is "not found", exactly as one that does not exist."""
    user = require(request, *perms)
    found = None
    if account_id_of(user) is None:
        found = (
            Pass.objects.select_related("member", "product__site")
            .filter(number=number[:20])
            .first()
        )
    if found is None:
        raise passes.PassNotFound(details={"pass": number[:20]})
    return user, found


def _member(user: Any, number: str) -> Member:
    """An active member to sell to; to an agency's own user every member is "not found"."""
    found = None
    if account_id_of(user) is None:
        found = Member.objects.filter(number=number, is_active=True).first()
    if found is None:
        raise MemberNotFound(details={"member": number})
    return found


@router.post("/passes", response={201: dict}, summary="Sell a pass to a member")
def pass_sell(request: HttpRequest, payload: PassIn) -> Any:
    user = require(request, "sales.add_order", "customers.add_pass")
    member = _member(user, payload.member)
    product = Product.objects.select_related("site").filter(pk=payload.product).first()
    if product is None:
        raise errors.UnknownProduct(details={"product": payload.product})
    return once(
        request,
        user,
        "pass",
        payload,
        lambda: pass_out(
            passes.pass_sell(
                member=member,
                product=product,
                actor=user,
                method=payload.method,
                tendered=payload.tendered,
                card_uid=payload.card_uid,
            )
        ),
    )


@router.get("/passes/{number}", response=dict, summary="A pass with its periods and media")
def pass_get(request: HttpRequest, number: str) -> Any:
    _user, found = _pass(request, number, "customers.view_pass")
    return pass_out(found)


@router.post("/passes/{number}/renewals", response={201: dict}, summary="Renew at today's price")
def pass_renew(request: HttpRequest, number: str, payload: PaymentChoice) -> Any:
    user, found = _pass(request, number, "sales.add_order", "customers.change_pass")

    def renew() -> dict[str, Any]:
        passes.pass_renew(pass_=found, actor=user, method=payload.method, tendered=payload.tendered)
        found.refresh_from_db()
        return pass_out(found)

    return once(request, user, f"renew {found.number}", payload, renew)


@router.post("/passes/{number}/card", response=dict, summary="Replace a lost card (挂失补卡)")
def pass_card(request: HttpRequest, number: str, payload: CardIn) -> Any:
    user, found = _pass(request, number, "customers.change_pass", "tickets.add_ticketmedium")
    fee = None
    if payload.fee_product is not None:
        fee = Product.objects.filter(pk=payload.fee_product).first()
        if fee is None:
            raise errors.UnknownProduct(details={"product": payload.fee_product})
    return once(
        request,
        user,
        f"card {found.number}",
        payload,
        lambda: pass_out(
            passes.pass_replace_card(
                pass_=found,
                card_uid=payload.card_uid,
                actor=user,
                fee_product=fee,
                method=payload.method,
                tendered=payload.tendered,
            )
        ),
        status=200,
    )


@router.post("/passes/{number}/freeze", response=dict, summary="Freeze a pass")
def pass_freeze(request: HttpRequest, number: str, payload: FreezeIn) -> Any:
    user, found = _pass(request, number, "customers.freeze_pass")
    return pass_out(passes.pass_freeze(pass_=found, actor=user, reason=payload.reason))


@router.post("/passes/{number}/unfreeze", response=dict, summary="Thaw a frozen pass")
def pass_unfreeze(request: HttpRequest, number: str) -> Any:
    user, found = _pass(request, number, "customers.freeze_pass")
    return pass_out(passes.pass_unfreeze(pass_=found, actor=user))
