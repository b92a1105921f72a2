"""`admit demo`: a realistic venue, created once; running it again changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from admit.accounts.models import Device, User
from admit.accounts.roles import ROLES
from admit.catalog.models import Channel, ComboComponent, Gate, Lane, Price, Product, Site, Zone
from admit.core.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

MODELS = [User, Site, Zone, Gate, Lane, Channel, Product, ComboComponent, Price, Device, AuditEntry]


def counts():
    return {m.__name__: m.objects.count() for m in MODELS}


def test_demo_twice_creates_once_and_prints_the_logins():
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    first = counts()
    text = out.getvalue()
    assert "demo data created" in text
    assert "admin / admin" in text and "http://127.0.0.1:8000/admin/" in text
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert counts() == first


def test_demo_venue_is_complete():
    call_command("demo", "--no-serve", stdout=io.StringIO())
    site = Site.objects.get(code="yunling")
    zones = {z.code: z for z in site.zones.all()}
    assert zones["orchid-garden"].parent == zones["main"]  # park-in-park
    assert {"cable-car", "theatre"} <= set(zones)
    kinds = set(Product.objects.values_list("kind", flat=True))
    assert kinds == {"admission", "combo", "pass", "group", "fee"}
    assert Product.objects.count() >= 8
    codes = set(Product.objects.values_list("code", flat=True))
    assert {
        "adult",
        "child",
        "senior",
        "student",
        "family",
        "combo-cable",
        "annual",
        "group",
    } <= codes
    assert set(Channel.objects.values_list("code", flat=True)) == {
        "window",
        "kiosk",
        "online",
        "ota",
        "agency",
        "klook",  # the demo partners' own channels
        "ctrip",
    }
    assert set(Price.objects.exclude(day_type="").values_list("day_type", flat=True)) >= {
        "weekday",
        "weekend",
        "holiday",
    }
    east = Gate.objects.get(code="east")
    assert east.lanes.count() >= 3
    assert Lane.objects.filter(direction="out").exists()
    assert User.objects.get(username="admin").is_superuser
    for role in ROLES:
        assert User.objects.filter(groups__name=role).exists(), role
    assert ComboComponent.objects.filter(combo__code="combo-cable").count() == 2
    # The set-up itself is in the audit trail.
    assert AuditEntry.objects.filter(content_type__model="product", action="create").count() == (
        Product.objects.count()
    )
