"""The partners' back office: lists render in both languages, a new key is shown once and
works, dead letters are retried by staff with the right, and every change is audited."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.test import Client

from admit.accounts.models import User
from admit.core.models import AuditEntry
from admit.partners.models import OutboxMessage, Partner, PartnerWebhook
from admit.partners.services import outbox_put, partner_authenticate
from admit.partners.services.webhooks import webhook_register


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
        "/admin/partners/partnerwebhook/",
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


def test_webhooks_show_their_deliveries_and_staff_with_the_right_remove_one(as_user):
    partner = Partner.objects.get(code="klook")
    hook = webhook_register(
        partner=partner, event="booking_update", url="https://reseller.example/hooks/admit"
    )
    other = webhook_register(
        partner=partner, event="booking_update", url="https://reseller.example/other"
    )
    with transaction.atomic():
        sent = [
            outbox_put(topic="octo.webhook", partner=partner, url=hook.url, payload={})
            for _ in range(3)
        ]
    OutboxMessage.objects.filter(pk__in=[m.pk for m in sent[:2]]).update(status="delivered")
    OutboxMessage.objects.filter(pk=sent[2].pk).update(status="dead")

    page = as_user("marketing").get("/admin/partners/partnerwebhook/").content.decode()
    row = page[page.index("https://reseller.example/hooks/admit") :].split("</tr>")[0]
    links = dict(re.findall(r'status__exact=(\w+)[^"]*">(\d+)</a>', row))
    assert links == {"delivered": "2", "dead": "1"}  # none pending: a plain 0
    assert as_user("cashier").get("/admin/partners/partnerwebhook/").status_code == 403

    action = {"action": "remove", "_selected_action": [hook.pk]}
    as_user("finance").post("/admin/partners/partnerwebhook/", action)
    assert PartnerWebhook.objects.filter(pk=hook.pk).exists()  # no right: nothing removed
    response = as_user("marketing").post("/admin/partners/partnerwebhook/", action, follow=True)
    assert "1 webhook(s) removed." in response.content.decode()
    assert list(PartnerWebhook.objects.all()) == [other]
    entry = AuditEntry.objects.get(verb="webhook_delete")
    assert entry.actor.username == "marketing" and entry.object_id == str(hook.pk)
    # The messages already queued stay, and a dead one can still be retried.
    assert OutboxMessage.objects.filter(url=hook.url).count() == 3
