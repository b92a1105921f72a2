"""The database itself refuses to change an audit entry (UPDATE), on every supported engine.

Deletes are refused by the application (AppendOnlyModel); a production database user should
also be granted no DELETE on core_auditentry.
"""

from django.db import migrations

MESSAGE = "core_auditentry is append-only"


def create_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION admit_audit_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql;
            CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON core_auditentry
            FOR EACH ROW EXECUTE FUNCTION admit_audit_append_only();
            """
        )
    elif vendor == "mysql":
        schema_editor.execute(
            "CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON core_auditentry "
            f"FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{MESSAGE}'"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            "CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON core_auditentry "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def drop_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS core_auditentry_no_update ON core_auditentry; "
            "DROP FUNCTION IF EXISTS admit_audit_append_only();"
        )
    else:
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_no_update")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create_trigger, drop_trigger, atomic=False)]
