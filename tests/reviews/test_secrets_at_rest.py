"""Initial passwords at rest (issue: secrets at rest): encrypted for the ID notice, hashed for UTB, never in clear
in a dump of the database; keys rotate without losing a secret."""

import subprocess

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection

from applications import crypto, passwords
from applications.models import NaccsUserId
from reviews.services import application_approve, application_take
from tests.factories import submitted_application


def _issue(reviewer, monkeypatch, count=3):
    issued_passwords = []
    original = passwords.generate_initial_password

    def remember():
        password = original()
        issued_passwords.append(password)
        return password

    monkeypatch.setattr(passwords, "generate_initial_password", remember)
    application = submitted_application(identifiers=[""] * count)
    application_take(application=application, actor=reviewer)
    application_approve(application=application, actor=reviewer)
    assert len(issued_passwords) == count
    return issued_passwords


def _dump() -> str:
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        command = ["pg_dump", "--data-only", "--no-owner", "-d", settings["NAME"]]
        if settings.get("HOST"):
            command += ["-h", settings["HOST"]]
        if settings.get("PORT"):
            command += ["-p", str(settings["PORT"])]
        if settings.get("USER"):
            command += ["-U", settings["USER"]]
        env = {"PGPASSWORD": settings.get("PASSWORD") or "", "PATH": "/usr/bin:/bin"}
        return subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    connection.ensure_connection()
    return "\n".join(connection.connection.iterdump())


@pytest.mark.django_db(transaction=True)
def test_a_dump_of_the_database_holds_no_initial_password_in_clear(reviewer, monkeypatch):
    issued = _issue(reviewer, monkeypatch)
    dump = _dump()
    # The dump is real and holds the issued IDs …
    for naccs_id in NaccsUserId.objects.filter(issued_by__isnull=False):
        assert naccs_id.initial_password_encrypted in dump
    # … but none of the passwords themselves.
    for password in issued:
        assert password not in dump


@pytest.mark.django_db
def test_stored_secret_decrypts_to_the_password_and_the_hash_verifies_it(reviewer, monkeypatch):
    issued = _issue(reviewer, monkeypatch, count=2)
    stored = NaccsUserId.objects.filter(issued_by__isnull=False).order_by("pk")
    assert [crypto.decrypt(n.initial_password_encrypted) for n in stored] == issued
    for naccs_id, password in zip(stored, issued, strict=True):
        assert naccs_id.password_hash.startswith("naccs_scrypt$")
        assert passwords.check_naccs_password(password, naccs_id.password_hash)
        assert not passwords.check_naccs_password(password.lower(), naccs_id.password_hash)


@pytest.mark.django_db
def test_rotation_re_encrypts_every_secret_with_the_newest_key(reviewer, monkeypatch, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.NSS_ENCRYPTION_KEYS = [old]
    issued = _issue(reviewer, monkeypatch, count=3)

    settings.NSS_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_keys", verbosity=0)

    settings.NSS_ENCRYPTION_KEYS = [new]  # the old key is gone: everything must still decrypt
    stored = NaccsUserId.objects.filter(issued_by__isnull=False).order_by("pk")
    assert [crypto.decrypt(n.initial_password_encrypted) for n in stored] == issued
    settings.NSS_ENCRYPTION_KEYS = [old]
    with pytest.raises(InvalidToken):
        crypto.decrypt(stored[0].initial_password_encrypted)
