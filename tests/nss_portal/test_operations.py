"""/healthz, /readyz and the request id (operations)."""

import logging
import re

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_the_database_and_redis(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"] is True
    assert ("redis" in checks) == bool(settings.REDIS_URL)


@pytest.mark.django_db
def test_readyz_is_503_when_redis_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": True, "redis": False}}


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("database is down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] is False


def test_every_response_carries_a_request_id_and_a_sane_incoming_one_is_kept(client):
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-0123456789")["X-Request-ID"] == "lb-0123456789"
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="<script>\n")["X-Request-ID"]
    assert hostile != "<script>\n" and len(hostile) == 32


def test_log_lines_carry_the_request_id_as_json(client, caplog):
    from nss_portal.request_id import JsonFormatter, RequestIdFilter

    logger = logging.getLogger("nss_portal.health")
    handler = logging.Handler()
    records = []
    handler.emit = records.append
    handler.addFilter(RequestIdFilter())
    logger.addHandler(handler)
    try:
        client.get(
            "/readyz", HTTP_X_REQUEST_ID="req-abcdef123"
        )  # no db fixture: the database check fails and logs
    finally:
        logger.removeHandler(handler)
    assert records, "the failed readiness check should have logged"
    line = JsonFormatter().format(records[0])
    assert '"request_id": "req-abcdef123"' in line


@given(incoming=st.text(max_size=100))
def test_a_request_id_is_kept_only_when_it_is_a_sane_token(incoming):
    from django.test import Client

    header = incoming.replace("\x00", "")
    try:
        header.encode("latin-1")
    except UnicodeEncodeError:
        header = header.encode("utf-8", "surrogatepass").decode("latin-1")
    answered = Client().get("/healthz", HTTP_X_REQUEST_ID=header)["X-Request-ID"]
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}", answered, re.ASCII)
    assert answered == header or len(answered) == 32


def test_request_ids_made_only_of_punctuation_or_too_long_are_replaced(client):
    for hostile in ("........", "--------", "a" * 65, "ab\ncdefgh", "ａｂｃｄｅｆｇｈ"):
        answered = client.get("/healthz", HTTP_X_REQUEST_ID=hostile)["X-Request-ID"]
        assert answered != hostile and len(answered) == 32, hostile
