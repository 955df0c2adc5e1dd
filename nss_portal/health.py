"""Liveness and readiness for load balancers and orchestrators.

/healthz: the process answers (no dependency is touched, so a database outage does not restart every web process).
/readyz: the database and Redis answer; 503 with the failing part otherwise, so traffic moves elsewhere."""

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means "not ready"; logged below
        logger.warning("readiness: database check failed", exc_info=True)
        return False


def _redis_ok() -> bool | None:
    if not settings.REDIS_URL:
        return None  # embedded default: no Redis to check
    import redis

    try:
        return bool(
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
        )
    except redis.RedisError:
        logger.warning("readiness: redis check failed", exc_info=True)
        return False


@never_cache
@require_safe
def readyz(request):
    checks = {"database": _database_ok(), "redis": _redis_ok()}
    ready = all(value is not False for value in checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {k: v for k, v in checks.items() if v is not None},
    }
    return JsonResponse(body, status=200 if ready else 503)
