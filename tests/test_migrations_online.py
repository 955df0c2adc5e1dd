"""Migrations run while the previous version still serves (README, "Operations"). From the SQL each migration
really sends to PostgreSQL, this finds what blocks or breaks the old version: a plain CREATE INDEX or DROP INDEX
(writes wait for the whole build; use AddIndexConcurrently / RemoveIndexConcurrently in a non-atomic migration),
ADD CONSTRAINT on an existing table (validated under an ACCESS EXCLUSIVE lock), a column type change, and a NOT
NULL column without a database default (the old code's INSERTs fail). The migrations that do so are the known
list below, named in the README; a new one fails here."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]

OUR_APPS = ("applications", "notifications", "utb_gateway")

# Written before the rule; applied in a maintenance window (README, "Operations").
NOT_ONLINE_SAFE = {
    "applications.0003_review_and_issuance",
    "applications.0005_open_queue_index",
    "applications.0008_staff_enrolment",
    "notifications.0002_delivery_state_machine",
    "utb_gateway.0002_login_state_per_address",
}


# What blocks or breaks the serving version, on a table that existed before the migration.
ON_EXISTING_TABLES = [
    lambda sql: re.match(r"CREATE (UNIQUE )?INDEX (?!CONCURRENTLY)", sql),
    lambda sql: "ADD CONSTRAINT" in sql and "NOT VALID" not in sql and "FOREIGN KEY" not in sql,
    lambda sql: re.search(r'ALTER COLUMN "\w+" TYPE', sql),
    lambda sql: "ADD COLUMN" in sql and "NOT NULL" in sql and "DEFAULT" not in sql,
    # Django's way to add a NOT NULL column: a default for the existing rows, then none, so old INSERTs fail.
    lambda sql: "DROP DEFAULT" in sql,
]
ANYWHERE = [lambda sql: re.match(r"DROP INDEX (?!CONCURRENTLY)", sql)]


def blocking(statements: list[str]) -> list[str]:
    created = set(re.findall(r'CREATE TABLE "(\w+)"', " ".join(statements)))
    found = []
    for sql in statements:
        table = re.search(r'(?:ON|ALTER TABLE) "(\w+)"', sql)
        existing = table is None or table.group(1) not in created
        if any(rule(sql) for rule in ANYWHERE) or (
            existing and any(rule(sql) for rule in ON_EXISTING_TABLES)
        ):
            found.append(sql)
    return found


def statements_of(executor: MigrationExecutor, key: tuple[str, str]) -> list[str]:
    migration = executor.loader.graph.nodes[key]
    return [sql for sql in executor.loader.collect_sql([(migration, False)]) if not sql.startswith("--")]


def test_only_the_known_migrations_block_or_break_the_serving_version():
    executor = MigrationExecutor(connection)
    found = {}
    for key in sorted(executor.loader.graph.nodes):
        if key[0] in OUR_APPS:
            hits = blocking(statements_of(executor, key))
            if hits:
                found[f"{key[0]}.{key[1]}"] = hits
    new = {name: hits for name, hits in found.items() if name not in NOT_ONLINE_SAFE}
    assert not new, (
        "not safe while the previous version serves (use AddIndexConcurrently in a migration with atomic = False, "
        f"a constraint NOT VALID then VALIDATE, a nullable column or a db_default): {new}"
    )
    assert set(found) == NOT_ONLINE_SAFE, (
        "a migration of the list is safe now: take it off the list and the README"
    )


def test_the_readme_names_each_migration_that_is_not_online_safe():
    readme = " ".join((Path(settings.BASE_DIR) / "README.md").read_text().split())
    for name in NOT_ONLINE_SAFE:
        app, migration = name.split(".")
        assert f"{app} {migration}" in readme, f"README does not name {name}"


def test_the_check_sees_what_it_must():
    """The classifier itself, on SQL like Django's."""
    assert blocking(['CREATE INDEX "i" ON "t" ("a")']) != []
    assert blocking(['CREATE INDEX CONCURRENTLY "i" ON "t" ("a")']) == []
    assert blocking(['CREATE TABLE "t" ("a" int)', 'CREATE INDEX "i" ON "t" ("a")']) == []
    assert blocking(['ALTER TABLE "t" ADD CONSTRAINT "c" CHECK ("a" > 0)']) != []
    assert blocking(['ALTER TABLE "t" ADD CONSTRAINT "c" CHECK ("a" > 0) NOT VALID']) == []
    assert blocking(['ALTER TABLE "t" ADD COLUMN "b" integer NOT NULL']) != []
    assert blocking(['ALTER TABLE "t" ADD COLUMN "b" integer DEFAULT 0 NOT NULL']) == []
    assert blocking(['ALTER TABLE "t" ADD COLUMN "b" integer NULL']) == []
    assert blocking(['ALTER TABLE "t" ALTER COLUMN "b" DROP DEFAULT']) != []
    assert blocking(['ALTER TABLE "t" ALTER COLUMN "b" TYPE bigint USING "b"::bigint']) != []
    assert blocking(['DROP INDEX IF EXISTS "i"']) != []
