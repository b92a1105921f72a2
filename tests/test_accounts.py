"""Staff roles, API tokens, device credentials and the login lock."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from admit.accounts.models import ApiToken, Device, User
from admit.accounts.roles import ROLES
from admit.accounts.services import device_credential_issue, token_create, user_create
from admit.core.models import AuditEntry

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token"


def login(client, username, password):
    return client.post(
        LOGIN,
        {"username": username, "password": password},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_every_role_is_a_group_with_the_right_permissions(db):
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)
    users = {
        code: user_create(username=code, password="pw-12345678", roles=[code], actor=None)
        for code in ROLES
    }
    assert users["supervisor"].has_perm("catalog.change_product")
    assert users["supervisor"].has_perm("catalog.add_price")
    assert users["supervisor"].has_perm("core.view_auditentry")
    assert not users["supervisor"].has_perm("core.change_auditentry")
    assert users["cashier"].has_perm("catalog.view_product")
    assert not users["cashier"].has_perm("catalog.change_product")
    assert not users["cashier"].has_perm("core.view_auditentry")
    assert users["marketing"].has_perm("catalog.change_price")
    assert not users["marketing"].has_perm("catalog.change_site")
    assert users["finance"].has_perm("core.view_auditentry")
    assert users["gate_operator"].has_perm("catalog.view_lane")
    assert not users["gate_operator"].has_perm("catalog.view_price")
    assert users["auditor"].has_perm("catalog.view_price")
    assert users["auditor"].has_perm("core.view_auditentry")
    assert not users["auditor"].has_perm("catalog.change_price")
    assert not users["auditor"].has_perm("accounts.change_user")


def test_unknown_role_is_refused(db):
    from admit.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as info:
        user_create(username="x", password="pw-12345678", roles=["wizard"], actor=None)
    assert info.value.code == "unknown_role"
    assert not User.objects.filter(username="x").exists()


def test_token_login_use_and_revoke(supervisor):
    client = Client()
    response = login(client, "supervisor", "demo1234")
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["token"]
    assert body["user"]["roles"] == ["supervisor"]
    # Only a hash is stored.
    token = ApiToken.objects.get(user=supervisor)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert not ApiToken.objects.filter(token_hash__contains=secret).exists()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get("/api/v1/auth/me", **auth).json()["username"] == "supervisor"
    assert client.delete(LOGIN, **auth).status_code == 204
    response = client.get("/api/v1/auth/me", **auth)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(verb="token_revoke", object_id=str(token.pk)).exists()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer adm_not-a-real-token",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "a" * 5000,
    ],
)
def test_bad_bearer_tokens_get_401_with_the_error_body(db, header):
    response = Client().get("/api/v1/sites", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_expired_token_and_inactive_user_are_refused(supervisor):
    _t, secret = token_create(actor=None, user=supervisor, days=1)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/sites").status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        assert client.get("/api/v1/sites").status_code == 401
    supervisor.is_active = False
    supervisor.save()
    assert client.get("/api/v1/sites").status_code == 401


def test_device_credential(demo):
    device = Device.objects.get(code="dev-east-1")
    _t, secret = device_credential_issue(device=device, actor=None)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    me = client.get("/api/v1/auth/me").json()
    assert me["username"] == "device:dev-east-1"
    device.is_active = False
    device.save()
    assert client.get("/api/v1/auth/me").status_code == 401


def test_wrong_password_gets_401(supervisor):
    response = login(Client(), "supervisor", "wrong")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    response = login(Client(), "nobody", "wrong")
    assert response.status_code == 401


def test_repeated_failures_lock_the_account_for_a_while(supervisor, settings):
    settings.ADMIT_LOGIN_MAX_FAILURES = 3
    settings.ADMIT_LOGIN_LOCK_MINUTES = 15
    client = Client()
    for _ in range(2):
        assert login(client, "supervisor", "wrong").status_code == 401
    response = login(client, "supervisor", "wrong")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_locked"
    # Even the right password is refused while locked, and no token is made.
    response = login(client, "supervisor", "demo1234")
    assert response.status_code == 403
    assert "locked_until" in response.json()["error"]["details"]
    assert not ApiToken.objects.exists()
    assert AuditEntry.objects.filter(verb="login_locked").count() == 1
    # The back-office login says so too.
    page = client.post(
        "/admin/login/",
        {"username": "supervisor", "password": "demo1234"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 200
    assert "locked" in page.content.decode()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert login(client, "supervisor", "demo1234").status_code == 201
    supervisor.refresh_from_db()
    assert supervisor.failed_logins == 0 and supervisor.locked_until is None


def test_admin_login_failures_count_too(supervisor, settings):
    settings.ADMIT_LOGIN_MAX_FAILURES = 2
    client = Client()
    for _ in range(2):
        client.post("/admin/login/", {"username": "supervisor", "password": "nope"})
    supervisor.refresh_from_db()
    assert supervisor.is_locked
    assert login(client, "supervisor", "demo1234").status_code == 403


def test_a_success_resets_the_failure_count(supervisor, settings):
    settings.ADMIT_LOGIN_MAX_FAILURES = 3
    client = Client()
    login(client, "supervisor", "wrong")
    login(client, "supervisor", "wrong")
    assert login(client, "supervisor", "demo1234").status_code == 201
    login(client, "supervisor", "wrong")
    login(client, "supervisor", "wrong")
    assert login(client, "supervisor", "demo1234").status_code == 201
