"""The audit trail: who, when, from where, what changed — append-only."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from admit.accounts.services import user_create
from admit.catalog import services
from admit.catalog.models import Site
from admit.core.audit import MASKED
from admit.core.context import RequestContext, request_context
from admit.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_create_update_delete_are_recorded_with_actor_address_and_values(supervisor):
    with request_context(RequestContext(source_ip="203.0.113.7", user_agent="pytest", via="web")):
        site = services.site_save(instance=Site(code="hill", name="小山"), actor=supervisor)
        site.name = "大山"
        site.phone = "0571-1"
        services.site_save(instance=site, actor=supervisor)
        services.catalog_delete(instance=site, actor=supervisor)

    entries = list(AuditEntry.objects.filter(object_repr__in=["小山", "大山"]).order_by("id"))
    assert [e.action for e in entries] == ["create", "update", "delete"]
    created, updated, deleted = entries
    for e in entries:
        assert e.actor == supervisor
        assert e.actor_label == "supervisor"
        assert e.source_ip == "203.0.113.7"
        assert e.via == "web"
        assert e.content_type.model == "site"
    assert created.before is None and created.after["name"] == "小山"
    assert updated.changes == {"name": ["小山", "大山"], "phone": ["", "0571-1"]}
    assert updated.before["name"] == "小山" and updated.after["name"] == "大山"
    assert deleted.before["name"] == "大山" and deleted.after is None


def test_saving_without_a_change_writes_no_entry(supervisor):
    site = services.site_save(instance=Site(code="hill", name="小山"), actor=supervisor)
    count = AuditEntry.objects.count()
    services.site_save(instance=site, actor=supervisor)
    assert AuditEntry.objects.count() == count


def test_passwords_never_reach_the_audit_trail(db):
    user = user_create(username="zhang", password="s3cret-pass", roles=["cashier"], actor=None)
    entry = AuditEntry.objects.get(object_id=str(user.pk), content_type__model="user")
    assert entry.after["password"] == MASKED
    assert "s3cret" not in str(entry.after)
    assert entry.after["groups"]  # the role is recorded


def test_rolled_back_write_leaves_no_entry(supervisor):
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.site_save(instance=Site(code="hill", name="小山"), actor=supervisor)
        raise RuntimeError("boom")
    assert AuditEntry.objects.count() == before
    assert not Site.objects.exists()


def test_entries_cannot_be_changed_or_deleted(supervisor):
    services.site_save(instance=Site(code="hill", name="小山"), actor=supervisor)
    entry = AuditEntry.objects.latest("id")
    entry.note = "tampered"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(note="tampered")
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).delete()


def test_the_database_refuses_to_update_an_entry(supervisor):
    services.site_save(instance=Site(code="hill", name="小山"), actor=supervisor)
    entry = AuditEntry.objects.latest("id")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET note = 'tampered' WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.note == ""
