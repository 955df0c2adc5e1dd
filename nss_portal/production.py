"""Production fails closed (SPEC §10): with DJANGO_PRODUCTION=true no process starts without its secrets.

`settings.py` calls `production_problems` on the values it read and raises `ProductionMisconfigured` naming every
variable that is missing or invalid. Every entry point (manage.py, the WSGI module gunicorn loads, the Celery app
that the worker and beat load) calls `settings_or_exit`, which turns that into one line on stderr and an exit code,
instead of a traceback or a process that serves with a key printed in the repository.

The embedded defaults of `make run` (no DJANGO_PRODUCTION) are not touched by any of this, except that a Fernet key
that is given but invalid is refused everywhere: it could only break every approval later.
"""

import sys

from django.core.exceptions import ImproperlyConfigured

# gunicorn's arbiter stops (instead of respawning the worker forever) when a worker exits with this code
# (Arbiter.APP_LOAD_ERROR); for every other process it is simply a non-zero exit.
EXIT_CODE = 4

SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5


class ProductionMisconfigured(ImproperlyConfigured):
    """The settings refuse to load; the message names each variable and what is wrong with it."""


def fernet_key_problems(keys: list[str]) -> list[str]:
    """NSS_ENCRYPTION_KEYS: each entry must be a Fernet key (32 bytes, url-safe base64)."""
    from cryptography.fernet import Fernet

    problems = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            problems.append(
                f"NSS_ENCRYPTION_KEYS: key {position} of {len(keys)} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)"
            )
    return problems


def production_problems(
    *,
    secret_key: str | None,
    insecure_default_secret_key: str,
    encryption_keys: list[str],
    database_engine: str,
    database_url_set: bool,
    redis_url: str,
    tasks_eager: bool,
    base_url: str = "",
) -> list[str]:
    """What keeps these settings from running in production, one phrase per variable; empty when nothing does."""
    problems = []
    if not secret_key:
        problems.append("DJANGO_SECRET_KEY is not set")
    elif secret_key == insecure_default_secret_key:
        problems.append("DJANGO_SECRET_KEY is the embedded local default")
    elif len(secret_key) < SECRET_KEY_MIN_LENGTH or len(set(secret_key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        problems.append(
            f"DJANGO_SECRET_KEY is too weak (at least {SECRET_KEY_MIN_LENGTH} characters, "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} different)"
        )
    if not encryption_keys:
        problems.append("NSS_ENCRYPTION_KEYS is not set")
    # Invalid keys are refused in every mode (settings.py), so they are not repeated here.
    if not database_url_set:
        problems.append("DATABASE_URL is not set")
    elif database_engine != "django.db.backends.postgresql":
        problems.append("DATABASE_URL is not a PostgreSQL URL (postgres://…)")
    if not redis_url:
        problems.append("REDIS_URL is not set")
    if tasks_eager:
        problems.append("CELERY_TASK_ALWAYS_EAGER=true runs tasks inside web requests (embedded demo only)")
    if not base_url:
        problems.append("NSS_BASE_URL is not set (the address the links in e-mails point to)")
    elif not base_url.startswith("https://"):
        problems.append("NSS_BASE_URL is not an https:// address")
    return problems


def refusal(problems: list[str], *, production: bool) -> ProductionMisconfigured:
    prefix = "DJANGO_PRODUCTION=true but " if production else ""
    return ProductionMisconfigured(prefix + "; ".join(problems))


def settings_or_exit() -> None:
    """Load the settings now; if they refuse, print one line and exit (manage.py, wsgi.py, celery.py)."""
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - touching a setting loads the settings module
    except ProductionMisconfigured as error:
        sys.stderr.write(f"nss-portal: refusing to start: {error}\n")
        sys.stderr.flush()
        raise SystemExit(EXIT_CODE) from None
