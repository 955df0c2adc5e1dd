"""Migration operations that keep a migration online-safe on PostgreSQL (README, "Operations") and still run on
the SQLite of `make run`."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations import AddIndex


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, so that writes go on while the index is built (the migration must
    be `atomic = False`); a plain CREATE INDEX on a database that has no such thing (SQLite)."""

    def _ensure_not_in_transaction(self, schema_editor):
        # Collecting the SQL (sqlmigrate, tests/test_migrations_online.py) runs nothing, in or out of a transaction.
        if not schema_editor.collect_sql:
            super()._ensure_not_in_transaction(schema_editor)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
