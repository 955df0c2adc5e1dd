"""Scratch PostgreSQL databases for the benchmarks and the drill, and the SQL their seeds share. Shared by the
benchmarks, the drill and the test suite; never imported by the application.

A scratch database is dropped and re-created, so `database_config` refuses (SystemExit with the reason, the way a
script ends) a URL that is not postgres://, whose host is not the loopback interface, or whose database name does
not start with the prefix the caller's kind of run owns (nss_bench, nss_drill, nss_scale).
"""

import psycopg

from applications.reception_numbers import CHECK_ALPHABET, WEIGHTS

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def database_config(url: str, *, prefix: str) -> dict:
    """Django's DATABASES entry for `url`, once it is known to name a scratch database on this machine."""
    import environ

    config = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("DATABASE_URL must be a postgres:// URL")
    if not str(config["NAME"]).startswith(prefix):
        raise SystemExit(f"refusing to drop a database whose name does not start with {prefix}")
    if (config["HOST"] or "127.0.0.1") not in LOOPBACK_HOSTS:
        raise SystemExit("scratch databases are loopback only: DATABASE_URL must point at 127.0.0.1")
    return config


def connect(config: dict, *, dbname: str | None = None) -> psycopg.Connection:
    """An autocommit connection to the database of `config` (or to `dbname` on the same server)."""
    return psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname=dbname or config["NAME"],
        autocommit=True,
    )


def admin_execute(config: dict, *statements: str) -> None:
    """Run `statements` on the server's `postgres` database (what CREATE and DROP DATABASE need)."""
    admin = connect(config, dbname="postgres")
    try:
        for statement in statements:
            admin.execute(statement)
    finally:
        admin.close()


def recreate_database(config: dict) -> None:
    """Drop the scratch database (ending its sessions) and create it empty."""
    name = config["NAME"]
    admin_execute(config, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def drop_database(config: dict) -> None:
    admin_execute(config, f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')


def reception_number_sql(digits: str) -> str:
    """The SQL of the reception number whose 7 digits are the SQL text expression `digits` (e.g.
    ``(1000000 + i)::text``): the digits and their check letter, as `applications.reception_numbers.check_letter`
    computes it (weights 8…2, sum mod 23, into CHECK_ALPHABET). Uses mod(), not %, so that the result can be put
    into SQL that is run with parameters."""
    value = f"({digits})"
    total = " + ".join(
        f"{weight} * substr({value}, {position}, 1)::int" for position, weight in enumerate(WEIGHTS, start=1)
    )
    return f"({value} || substr('{CHECK_ALPHABET}', 1 + mod({total}, {len(CHECK_ALPHABET)}), 1))"
