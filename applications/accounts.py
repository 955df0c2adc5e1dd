"""Customer accounts getting (back) in (SPEC §11): 「パスワードをお忘れの方」.

A reset is a link of applications/enrolment.py (purpose PASSWORD_RESET): random, single-use, expiring
(`NSS_PASSWORD_RESET_MINUTES`), kept only as its SHA-256, e-mailed through the outbox to the account's own address,
and the e-mail's body is destroyed once sent (notifications CREDENTIAL_KINDS). Asking gives the same answer whether
or not the address belongs to an account, and nothing tells the two apart but the mailbox. Asking is rate-limited
per client address and per e-mail address (beyond the limit: the same answer, nothing sent). Setting the new
password ends every other session of the account (its session epoch moves on) and is audited.
"""

import datetime
import hashlib
import logging

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from notifications.services import email_queue

from . import audit, dates, enrolment
from .exceptions import DomainError
from .models import EnrolmentPurpose, EnrolmentToken, User

logger = logging.getLogger(__name__)

PASSWORD_RESET = EnrolmentPurpose.PASSWORD_RESET
RATE_WINDOW_SECONDS = 3600


def own_password_validate(password: str, account: User) -> None:
    """A password a person chose for themselves (staff enrolment, customer reset): Django's validators, at least
    12 characters; refused as a DomainError on the field `password1`."""
    try:
        password_validation.validate_password(password, account)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), field="password1", code="weak_password") from error


def _over_limit(kind: str, value: str, limit: int) -> bool:
    """Counts one request for (kind, value) in the current hour; True once the count is past `limit`. The key is a
    hash, so the cache holds no address in clear."""
    key = "nss:password-reset:" + hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this request starts a new window
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)
        count = 1
    return count > limit


def _accounts_for(email: str):
    """The active customer accounts with this address. Staff accounts reset through the approver (SPEC §10)."""
    return User.objects.filter(
        email__iexact=email, is_active=True, is_staff=False, contract__isnull=False
    ).select_related("contract")


@transaction.atomic
def password_reset_request(*, email: str, client_address: str) -> int:
    """Send a reset link to each active customer account with `email`. Returns how many were sent, for tests and
    logs only: the caller answers the same whatever it is."""
    email = email.strip()
    # Both counters count every request (no short-circuit), so neither limit can be dodged through the other.
    over_address = _over_limit("address", client_address, settings.NSS_PASSWORD_RESET_LIMIT_PER_ADDRESS)
    over_email = _over_limit("email", email.lower(), settings.NSS_PASSWORD_RESET_LIMIT_PER_EMAIL)
    if over_address or over_email:
        logger.warning("password reset: rate limit reached (client %s)", client_address)
        return 0
    lifetime = datetime.timedelta(minutes=settings.NSS_PASSWORD_RESET_MINUTES)
    base = settings.NSS_BASE_URL.rstrip("/")
    sent = 0
    for account in _accounts_for(email):
        token, raw = enrolment.token_issue(
            user=account, purpose=PASSWORD_RESET, created_by=None, lifetime=lifetime
        )
        email_queue(
            kind="customer_password_reset",
            to=account.email,
            topic="customer_account",
            topic_id=account.pk,
            context={
                "full_name": account.full_name or account.username,
                "username": account.username,
                "company_name": account.contract.company_name,
                "reset_url": f"{base}{reverse('password-reset-confirm', kwargs={'token': raw})}",
                "login_url": f"{base}{reverse('login')}",
                "expires_at": dates.format_datetime(token.expires_at, language=settings.LANGUAGE_CODE),
            },
        )
        audit.record(account, actor=None, action="customer_password_reset_request")
        sent += 1
    return sent


def password_reset_start(*, raw_token: str) -> EnrolmentToken:
    """The open reset link `raw_token`, for the page that asks for the new password; EnrolmentTokenInvalid if it is
    unknown, used, voided, expired or its account stopped."""
    token = enrolment.token_find_valid(raw_token=raw_token, purpose=PASSWORD_RESET)
    if token is None:
        raise enrolment.EnrolmentTokenInvalid
    return token


@transaction.atomic
def password_reset_complete(*, raw_token: str, password: str) -> User:
    """Set the account's new password through its reset link, once: the link is used up, every session of the
    account ends (it logs in again with the new password), the lockouts of its ユーザーID are lifted, audited."""
    token = enrolment.token_lock_valid(raw_token=raw_token, purpose=PASSWORD_RESET)
    if token is None:
        raise enrolment.EnrolmentTokenInvalid
    account = User.objects.select_for_update(no_key=True).get(pk=token.user_id)
    own_password_validate(password, account)
    account.set_password(password)
    account.session_epoch += 1
    account.save(update_fields=["password", "session_epoch"])
    enrolment.token_consume(token=token)
    transaction.on_commit(lambda: axes_reset(username=account.username))
    audit.record(account, actor=account, action="customer_password_reset")
    return account
