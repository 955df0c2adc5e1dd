"""Single-use, expiring links that let a person set their own credentials (SPEC §10: nobody holds another person's
working credentials).

The link carries a random token (`secrets.token_urlsafe(32)`, 256 bits); the database keeps only its SHA-256, so a
copy of the table (a backup, a read replica, an operator's query) opens nothing. Only the account's own address
receives the link. At most one link per account is open: issuing a new one voids the earlier unused ones, whatever
their purpose. Consuming happens under a row lock inside the caller's transaction, together with whatever the link
was for (setting the password, confirming the authenticator), so a link works once even when two requests race.

Staff enrolment uses it now (reviews/services.py); customer invitations and password resets (SPEC §11) are further
purposes of the same table and functions.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import clock, dates
from .exceptions import DomainError
from .models import EnrolmentToken, User

# Tokens are 43 characters (token_urlsafe(32)); anything much longer is not one of ours and is not even hashed.
MAX_TOKEN_LENGTH = 100


class EnrolmentTokenInvalid(DomainError):
    """The link is unknown, used, voided or expired, or its account is stopped. One message for all of them."""

    def __init__(self, message=None):
        super().__init__(
            message or _("このリンクは無効か、有効期限が切れています。"), code="enrolment_token_invalid"
        )


def token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def token_issue(
    *, user: User, purpose: str, created_by: User | None, lifetime: datetime.timedelta
) -> tuple[EnrolmentToken, str]:
    """A new link token for `user`, valid for `lifetime`; returns (row, raw token). The raw token goes into the
    e-mail to the account's own address and nowhere else. Voids the user's earlier unused tokens."""
    now = clock.now()
    token_void_open(user=user, now=now)
    raw = secrets.token_urlsafe(32)
    token = EnrolmentToken.objects.create(
        user=user,
        purpose=purpose,
        token_hash=token_hash(raw),
        created_by=created_by,
        created_at=now,
        expires_at=now + lifetime,
    )
    return token, raw


def token_void_open(*, user: User, now: datetime.datetime | None = None) -> int:
    """Void every unused, unvoided token of `user` (a newer link was issued, or the account was stopped)."""
    return EnrolmentToken.objects.filter(user=user, used_at__isnull=True, voided_at__isnull=True).update(
        voided_at=now or clock.now()
    )


def _valid(queryset, *, raw_token: str, purpose: str):
    if not raw_token or len(raw_token) > MAX_TOKEN_LENGTH:
        return None
    return (
        queryset.select_related("user")
        .filter(
            token_hash=token_hash(raw_token),
            purpose=purpose,
            used_at__isnull=True,
            voided_at__isnull=True,
            expires_at__gt=clock.now(),
            user__is_active=True,
        )
        .first()
    )


def token_find_valid(*, raw_token: str, purpose: str) -> EnrolmentToken | None:
    """The open token for `raw_token` and `purpose`: unused, not voided, not expired, of an active account."""
    return _valid(EnrolmentToken.objects.all(), raw_token=raw_token, purpose=purpose)


def token_lock_valid(*, raw_token: str, purpose: str) -> EnrolmentToken | None:
    """Like `token_find_valid`, with the token row locked until the caller's transaction ends: a second request
    with the same token waits here, then finds it used. Must run inside `transaction.atomic()`."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("token_lock_valid must run inside transaction.atomic()")
    return _valid(
        EnrolmentToken.objects.select_for_update(of=("self",), no_key=True),
        raw_token=raw_token,
        purpose=purpose,
    )


def token_consume(*, token: EnrolmentToken) -> EnrolmentToken:
    """Mark a token locked by `token_lock_valid` as used, in the same transaction as what it was used for."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("token_consume must run inside the transaction that locked the token")
    token.used_at = clock.now()
    token.save(update_fields=["used_at"])
    return token


def token_pending(*, user: User, purpose: str) -> EnrolmentToken | None:
    """The open link of `user` for `purpose`, if any (what the staff page shows: sent, valid until …)."""
    return (
        EnrolmentToken.objects.filter(
            user=user,
            purpose=purpose,
            used_at__isnull=True,
            voided_at__isnull=True,
            expires_at__gt=clock.now(),
        )
        .order_by("-expires_at")
        .first()
    )


def link_email_send(
    *,
    user: User,
    purpose: str,
    created_by: User | None,
    lifetime: datetime.timedelta,
    kind: str,
    topic: str,
    link_url: str,
    login_url: str,
    context: dict | None = None,
) -> EnrolmentToken:
    """Issue a link of `purpose` for `user` and e-mail it, through the outbox, to the account's own address: the raw
    token exists only here and in the e-mail (whose body the outbox destroys once sent). `link_url` names the URL
    that takes the token; the e-mail's context gets the link (`link`), the account's names, `login_url` (a URL
    name) and the expiry, in Japanese like every e-mail, besides `context`."""
    from notifications.services import email_queue

    token, raw = token_issue(user=user, purpose=purpose, created_by=created_by, lifetime=lifetime)
    base = settings.NSS_BASE_URL.rstrip("/")
    email_queue(
        kind=kind,
        to=user.email,
        topic=topic,
        topic_id=user.pk,
        context={
            "full_name": user.full_name or user.username,
            "username": user.username,
            "link": f"{base}{reverse(link_url, kwargs={'token': raw})}",
            "login_url": f"{base}{reverse(login_url)}",
            "expires_at": dates.format_datetime(token.expires_at, language=settings.LANGUAGE_CODE),
            **(context or {}),
        },
    )
    return token
