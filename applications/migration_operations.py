"""Migration operations that keep a migration online-safe on PostgreSQL (README, "Operations") and still run on
the SQLite of `make run`."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations import AddIndex, RemoveIndex


class _ConcurrentlyOnPostgres:
    """The CONCURRENTLY operation on PostgreSQL (the migration must be `atomic = False`), and its plain form
    (`plain`) on a database that has no such thing (SQLite)."""

    plain: type

    def _ensure_not_in_transaction(self, schema_editor):
        # Collecting the SQL (sqlmigrate, tests/test_migrations_online.py) runs nothing, in or out of a transaction.
        if not schema_editor.collect_sql:
            super()._ensure_not_in_transaction(schema_editor)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddIndexConcurrentlyOnPostgres(_ConcurrentlyOnPostgres, AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, so that writes go on while the index is built; a plain CREATE
    INDEX on SQLite."""

    plain = AddIndex


class RemoveIndexConcurrentlyOnPostgres(_ConcurrentlyOnPostgres, RemoveIndexConcurrently):
    """DROP INDEX CONCURRENTLY on PostgreSQL, so that the drop does not wait for (nor block) the queries using the
    table; a plain DROP INDEX on SQLite."""

    plain = RemoveIndex
