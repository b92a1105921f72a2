"""Races on the catalog and logins, with real threads against the real database."""

from __future__ import annotations

import datetime as dt

import pytest

from admit.accounts.models import User
from admit.accounts.services import login_failed
from admit.catalog import services
from admit.catalog.models import Price, Product, Site
from admit.core.errors import ValidationFailed
from admit.core.models import AuditEntry
from tests.conftest import run_concurrently

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

N = 8


def test_overlapping_prices_saved_at_once_are_refused_but_one(supervisor):
    site = services.site_save(instance=Site(code="hill", name="小山"), actor=supervisor)
    product = services.product_save(
        instance=Product(site=site, code="a", name="A"), actor=supervisor
    )

    def save(i: int) -> Price:
        return services.price_save(
            instance=Price(
                product=product,
                amount=100 + i,
                valid_from=dt.date(2027, 1, 1) + dt.timedelta(days=i),
            ),
            actor=supervisor,
        )

    results = run_concurrently(save, N)
    saved = [r for r in results if isinstance(r, Price)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(saved) == 1, results
    assert len(refused) == N - 1, results
    assert Price.objects.filter(product=product).count() == 1
    assert AuditEntry.objects.filter(content_type__model="price").count() == 1


def test_concurrent_failed_logins_are_all_counted_and_lock_once(supervisor, settings):
    settings.ADMIT_LOGIN_MAX_FAILURES = N
    results = run_concurrently(lambda i: login_failed(username="supervisor"), N)
    assert all(r is None for r in results), results
    user = User.objects.get(pk=supervisor.pk)
    assert user.is_locked
    assert AuditEntry.objects.filter(verb="login_locked").count() == 1
