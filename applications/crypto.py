"""Encryption at rest for secrets the customer must be able to read again (the initial password in the ID notice).

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with keys from the environment:
NSS_ENCRYPTION_KEYS is a comma-separated list of Fernet keys, newest first. Encryption always uses the first key;
decryption tries each in turn (MultiFernet), so a key can be rotated without downtime:

  1. generate a key: `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`
  2. deploy with NSS_ENCRYPTION_KEYS="<new>,<old>"
  3. run `python manage.py rotate_encryption_keys` (re-encrypts every stored value with the new key)
  4. deploy with NSS_ENCRYPTION_KEYS="<new>"

Without NSS_ENCRYPTION_KEYS (the embedded local default only) a key is derived from SECRET_KEY; the deploy check
nss_portal.E002 refuses that in production.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def _derived_local_key() -> bytes:
    digest = hashlib.sha256(b"nss-portal-local-encryption-key:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    raw = [key.encode() for key in keys] if keys else [_derived_local_key()]
    return MultiFernet([Fernet(key) for key in raw])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.NSS_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    return _current().decrypt(token.encode("ascii")).decode()


def rotate(token: str) -> str:
    """The same secret, encrypted with the newest key."""
    return _current().rotate(token.encode("ascii")).decode("ascii")
