"""The partners' back office: lists render in both languages, a new key is shown once and
works, dead letters are retried by staff with the right, and every change is audited."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from admit.accounts.models import User
from admit.core.models import AuditEntry
from admit.partners.models import OutboxMessage, Partner
from admit.partners.services import outbox_put, partner_authenticate


@pytest.fixture
def as_user(demo):
    def make(username: str) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(User.objects.get(username=username))
        return client

    return make


@pytest.mark.parametrize(
    "url",
    [
        "/admin/partners/partner/",
        "/admin/partners/partnerbooking/",
        "/admin/partners/outboxmessage/",
    ],
)
def test_partner_lists_render_in_both_languages(as_user, url):
    client = as_user("supervisor")
    assert client.get(url).status_code == 200
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and "合作伙伴" in response.content.decode()


def test_a_new_key_is_shown_once_and_replaces_the_old_one(as_user):
    partner = Partner.objects.get(code="klook")
    response = as_user("marketing").post(
        "/admin/partners/partner/",
        {"action": "issue_key", "_selected_action": [partner.pk]},
        follow=True,
    )
    page = response.content.decode()
    key = page[page.index("prt_") :].split("<")[0].split()[0]
    assert partner_authenticate(key=key).pk == partner.pk
    with pytest.raises(Exception, match="Unknown or inactive"):
        partner_authenticate(key="prt_demo_klook_key")
    entry = AuditEntry.objects.filter(verb="partner_key_issue").get()
    assert entry.actor.username == "marketing"
    assert key not in str(entry.after) and partner.key_hash not in str(entry.after)


def test_staff_retry_dead_letters_with_the_right(as_user):
    partner = Partner.objects.get(code="klook")
    Partner.objects.filter(pk=partner.pk).update(webhook_url="http://127.0.0.1:9/x")
    partner.refresh_from_db()
    with transaction.atomic():
        message = outbox_put(topic="t", partner=partner, payload={})
    assert message is not None
    OutboxMessage.objects.filter(pk=message.pk).update(status="dead", attempts=8)
    action = {"action": "retry", "_selected_action": [message.pk]}
    as_user("cashier").post("/admin/partners/outboxmessage/", action)
    assert OutboxMessage.objects.get(pk=message.pk).status == "dead"
    response = as_user("marketing").post("/admin/partners/outboxmessage/", action, follow=True)
    assert "1 message(s) queued again." in response.content.decode()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 0)
    assert AuditEntry.objects.filter(verb="outbox_retry", actor__username="marketing").exists()
