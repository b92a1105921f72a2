"""Catalog rules: every contradiction is refused with a clear error and nothing is written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from admit.catalog import services
from admit.catalog.models import (
    CalendarDay,
    Channel,
    ComboComponent,
    Price,
    Product,
    Site,
    VisitorCategory,
    Zone,
)
from admit.core.errors import ValidationFailed
from admit.core.models import AuditEntry

pytestmark = pytest.mark.django_db

D = dt.date(2027, 1, 1)


@pytest.fixture
def site(supervisor):
    return services.site_save(instance=Site(code="hill", name="小山"), actor=supervisor)


@pytest.fixture
def product(site, supervisor):
    return services.product_save(
        instance=Product(site=site, code="adult", name="成人票"), actor=supervisor
    )


def refused(fn, *, field=None, code="invalid"):
    """Call fn, expect a ValidationFailed (with a message for ``field``), and no audit entry."""
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as info:
        fn()
    assert info.value.code == code
    assert str(info.value.message)
    if field:
        assert field in info.value.details["fields"], info.value.details
    assert AuditEntry.objects.count() == before
    return info.value


def test_negative_price_is_refused(product, supervisor):
    refused(
        lambda: services.price_save(
            instance=Price(product=product, amount=Decimal("-0.01"), valid_from=D),
            actor=supervisor,
        ),
        field="amount",
    )
    assert not Price.objects.exists()


def test_negative_price_is_refused_by_the_database_too(product):
    with pytest.raises(IntegrityError), transaction.atomic():
        Price.objects.create(product=product, amount=Decimal("-1"), valid_from=D)


def test_price_period_that_ends_before_it_starts_is_refused(product, supervisor):
    refused(
        lambda: services.price_save(
            instance=Price(
                product=product, amount=1, valid_from=D, valid_until=D - dt.timedelta(1)
            ),
            actor=supervisor,
        ),
        field="valid_until",
    )


@pytest.mark.parametrize(
    ("first", "second", "clash"),
    [
        ((D, None), (D + dt.timedelta(100), None), True),  # two open-ended periods
        ((D, D + dt.timedelta(9)), (D + dt.timedelta(9), None), True),  # share the last day
        ((D, D + dt.timedelta(9)), (D + dt.timedelta(10), None), False),  # back to back
        ((D + dt.timedelta(5), D + dt.timedelta(6)), (D, D + dt.timedelta(30)), True),  # inside
    ],
)
def test_overlapping_price_periods_are_refused(product, supervisor, first, second, clash):
    services.price_save(
        instance=Price(product=product, amount=10, valid_from=first[0], valid_until=first[1]),
        actor=supervisor,
    )
    make = lambda: services.price_save(  # noqa: E731
        instance=Price(product=product, amount=12, valid_from=second[0], valid_until=second[1]),
        actor=supervisor,
    )
    if clash:
        err = refused(make)
        assert "overlaps" in str(err.message) or "重叠" in str(err.message)
        assert Price.objects.count() == 1
    else:
        make()
        assert Price.objects.count() == 2


def test_prices_of_different_channels_or_day_types_may_share_dates(product, supervisor):
    online = services.channel_save(
        instance=Channel(code="online", name="线上", kind="online"), actor=supervisor
    )
    for channel, day_type in [(None, ""), (online, ""), (None, "weekend"), (online, "weekend")]:
        services.price_save(
            instance=Price(
                product=product, channel=channel, day_type=day_type, amount=10, valid_from=D
            ),
            actor=supervisor,
        )
    assert Price.objects.count() == 4


def test_zone_cannot_lie_inside_itself(site, supervisor):
    a = services.zone_save(instance=Zone(site=site, code="a", name="A"), actor=supervisor)
    b = services.zone_save(instance=Zone(site=site, code="b", name="B", parent=a), actor=supervisor)
    c = services.zone_save(instance=Zone(site=site, code="c", name="C", parent=b), actor=supervisor)
    a.parent = a
    refused(lambda: services.zone_save(instance=a, actor=supervisor), field="parent")
    a.parent = c  # a → c → b → a
    refused(lambda: services.zone_save(instance=a, actor=supervisor), field="parent")
    a.refresh_from_db()
    assert a.parent is None
    assert [z.code for z in c.ancestors()] == ["b", "a"]


def test_zone_parent_must_be_of_the_same_site(site, supervisor):
    other = services.site_save(instance=Site(code="lake", name="湖"), actor=supervisor)
    outer = services.zone_save(instance=Zone(site=other, code="o", name="O"), actor=supervisor)
    refused(
        lambda: services.zone_save(
            instance=Zone(site=site, code="x", name="X", parent=outer), actor=supervisor
        ),
        field="parent",
    )


def test_product_validity_window_that_ends_before_it_starts(site, supervisor):
    refused(
        lambda: services.product_save(
            instance=Product(
                site=site,
                code="summer",
                name="夏季票",
                valid_from=D,
                valid_until=D - dt.timedelta(1),
            ),
            actor=supervisor,
        ),
        field="valid_until",
    )


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"kind": "group", "persons": 10}, "max_persons"),
        ({"kind": "group", "persons": 10, "max_persons": 5}, "max_persons"),
        ({"kind": "admission", "max_persons": 5}, "max_persons"),
        ({"validity": "open_dated"}, "validity_days"),
        ({"validity": "fixed_date", "validity_days": 3}, "validity_days"),
        ({"kind": "pass", "validity": "fixed_date"}, "validity"),
        ({"kind": "pass", "validity": "pass_period"}, "validity_months"),
        ({"kind": "admission", "validity": "pass_period", "validity_months": 12}, "validity"),
        ({"entries": 2, "entries_per_day": 3}, "entries_per_day"),
        ({"allowed_media": ["qr", "telepathy"]}, "allowed_media"),
        ({"persons": 0}, "persons"),
    ],
)
def test_contradictory_products_are_refused(site, supervisor, fields, bad):
    refused(
        lambda: services.product_save(
            instance=Product(site=site, code="p", name="P", **fields), actor=supervisor
        ),
        field=bad,
    )
    assert not Product.objects.exists()


def test_a_valid_pass_group_and_open_dated_ticket(site, supervisor):
    for code, fields in {
        "annual": {
            "kind": "pass",
            "validity": "pass_period",
            "validity_months": 12,
            "entries": None,
            "entries_per_day": 2,
        },
        "group": {"kind": "group", "persons": 10, "max_persons": 60},
        "open": {"validity": "open_dated", "validity_days": 30},
        "firstuse": {"validity": "from_first_use", "validity_days": 3, "entries": 3},
    }.items():
        services.product_save(
            instance=Product(site=site, code=code, name=code, **fields), actor=supervisor
        )
    assert Product.objects.count() == 4


def test_product_cannot_admit_to_another_sites_zone(site, supervisor):
    other = services.site_save(instance=Site(code="lake", name="湖"), actor=supervisor)
    far = services.zone_save(instance=Zone(site=other, code="far", name="远"), actor=supervisor)
    refused(
        lambda: services.product_save(
            instance=Product(site=site, code="p", name="P"), actor=supervisor, m2m={"zones": [far]}
        )
    )


def test_combo_components(site, product, supervisor):
    zone = services.zone_save(instance=Zone(site=site, code="z", name="Z"), actor=supervisor)
    refused(
        lambda: services.combo_component_save(
            instance=ComboComponent(combo=product, zone=zone, name="x"), actor=supervisor
        )
    )
    combo = services.product_save(
        instance=Product(site=site, code="combo", name="联票", kind="combo"), actor=supervisor
    )
    services.combo_component_save(
        instance=ComboComponent(combo=combo, zone=zone, name="x"), actor=supervisor
    )
    assert combo.components.count() == 1


def test_site_rules(supervisor):
    refused(
        lambda: services.site_save(
            instance=Site(code="s", name="S", time_zone="Mars/Olympus"), actor=supervisor
        ),
        field="time_zone",
    )
    refused(
        lambda: services.site_save(
            instance=Site(code="s", name="S", opens_at=dt.time(18), closes_at=dt.time(8)),
            actor=supervisor,
        ),
        field="closes_at",
    )
    refused(
        lambda: services.site_save(
            instance=Site(code="s", name="S", weekend_days=[7]), actor=supervisor
        ),
        field="weekend_days",
    )


def test_calendar_day_needs_both_special_times(site, supervisor):
    refused(
        lambda: services.calendar_day_save(
            instance=CalendarDay(site=site, date=D, opens_at=dt.time(9)), actor=supervisor
        )
    )
    services.calendar_day_save(
        instance=CalendarDay(site=site, date=D, day_type="holiday"), actor=supervisor
    )
    refused(
        lambda: services.calendar_day_save(
            instance=CalendarDay(site=site, date=D, closed=True), actor=supervisor
        )
    )


def test_visitor_category_rules(supervisor):
    refused(
        lambda: services.visitor_category_save(
            instance=VisitorCategory(code="kid", name="儿童", min_age=12, max_age=6),
            actor=supervisor,
        ),
        field="max_age",
    )
    refused(
        lambda: services.visitor_category_save(
            instance=VisitorCategory(code="stu", name="学生", proof_required=True),
            actor=supervisor,
        ),
        field="proof",
    )


def test_deleting_a_zone_in_use_is_refused_with_a_clear_error(site, product, supervisor):
    zone = services.zone_save(instance=Zone(site=site, code="z", name="Z"), actor=supervisor)
    services.zone_save(
        instance=Zone(site=site, code="inner", name="I", parent=zone), actor=supervisor
    )
    with pytest.raises(ValidationFailed) as info:
        services.catalog_delete(instance=zone, actor=supervisor)
    assert info.value.code == "in_use"
    assert Zone.objects.filter(pk=zone.pk).exists()
    assert not AuditEntry.objects.filter(action="delete").exists()
