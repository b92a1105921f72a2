from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from . import services
from .auth import bearer
from .roles import ROLES

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str = Field(max_length=150)
    password: str = Field(max_length=200)
    name: str = Field("", max_length=100, description="What the token is for, e.g. a device name")


class Me(Schema):
    username: str
    display_name: str
    roles: list[str]
    is_superuser: bool


class TokenOut(Schema):
    token: str
    expires_at: dt.datetime | None
    user: Me


def _me(user: services.User) -> Me:
    return Me(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(g.name for g in user.groups.all() if g.name in ROLES),
        is_superuser=user.is_superuser,
    )


@router.post("/token", response={201: TokenOut}, auth=None, summary="Log in: get a bearer token")
def token_obtain(request: HttpRequest, payload: TokenIn) -> Status[TokenOut]:
    token, secret = services.token_obtain(
        username=payload.username, password=payload.password, name=payload.name
    )
    assert token.user is not None
    return Status(201, TokenOut(token=secret, expires_at=token.expires_at, user=_me(token.user)))


@router.delete("/token", response={204: None}, auth=bearer, summary="Log out: revoke this token")
def token_revoke(request: HttpRequest) -> Status[None]:
    services.token_revoke(token=request.auth, actor=request.auth.user or request.auth.device)  # type: ignore[attr-defined]
    return Status(204, None)


@router.get("/me", response=Me, auth=bearer, summary="Who this token belongs to")
def me(request: HttpRequest) -> Me:
    token = request.auth  # type: ignore[attr-defined]
    if token.user is None:
        return Me(
            username=f"device:{token.device.code}",
            display_name=token.device.name,
            roles=[],
            is_superuser=False,
        )
    return _me(token.user)
