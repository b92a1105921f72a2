"""Partners under real concurrency: racing workers, racing retries of one booking."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction

from admit.partners.models import OutboxMessage, Partner
from admit.partners.services import outbox_put, outbox_run
from tests.conftest import load_demo, run_concurrently
from tests.partner_helpers import point_at, receiver

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_racing_workers_never_deliver_one_message_twice(clock):
    load_demo()
    with receiver() as r:
        partner = point_at("klook", r.url)
        partner = Partner.objects.get(pk=partner.pk)
        with transaction.atomic():
            for i in range(30):
                outbox_put(topic="t", partner=partner, payload={"n": i})
        results = run_concurrently(lambda i: outbox_run(worker=f"w{i}", limit=30), 4)
        assert not [x for x in results if isinstance(x, Exception)], results
    counts = Counter(r.ids())
    assert len(counts) == 30 and set(counts.values()) == {1}, counts
    assert sum(len(x) for x in results) == 30
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"delivered"}


def test_racing_retries_of_one_partner_order_make_one_order(clock):
    from django.test import Client

    from admit.inventory.services import pools_ensure
    from admit.partners.client import SandboxOTAClient
    from admit.sales.models import Order
    from tests.sales_helpers import MON, product
    from tests.test_partners_ota import django_transport

    load_demo()
    pools_ensure(site=product("adult").site, day=MON)

    def retry(i: int) -> str:
        client = SandboxOTAClient(
            "http://testserver", "ctrip", "demo-ctrip-secret", transport=django_transport(Client())
        )
        return client.create("CT-RACE", "adult", MON.isoformat(), 3, slot="09:30")["orderNo"]

    results = run_concurrently(retry, 4)
    assert not [x for x in results if isinstance(x, Exception)], results
    assert len(set(results)) == 1
    order = Order.objects.get()
    assert order.code == results[0] and order.status == "paid"
    from admit.inventory.models import Pool

    taken = sum(p.held + p.sold for p in Pool.objects.filter(date=MON, zone__code="main"))
    assert taken == 3  # places were taken once


def test_racing_webhook_registrations_never_pass_the_limit(clock):
    import json

    from django.test import Client

    from admit.partners.models import PartnerWebhook
    from admit.partners.services.webhooks import MAX_WEBHOOKS, webhook_register

    load_demo()
    partner = Partner.objects.get(code="klook")
    for i in range(MAX_WEBHOOKS - 2):  # two places left
        webhook_register(partner=partner, event="booking_update", url=f"https://r.example/{i}")

    def register(i: int) -> int:
        client = Client(HTTP_AUTHORIZATION="Bearer prt_demo_klook_key")
        body = {"event": "booking_update", "url": f"https://r.example/race-{i}"}
        return client.post(
            "/octo/webhooks", json.dumps(body), content_type="application/json"
        ).status_code

    results = run_concurrently(register, 6)
    assert sorted(results) == [200, 200, 400, 400, 400, 400], results
    assert PartnerWebhook.objects.filter(partner=partner).count() == MAX_WEBHOOKS
