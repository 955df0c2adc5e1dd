"""Customer accounts getting in (SPEC §11): invitations to an office's accounts, and 「パスワードをお忘れの方」.

Both are links of applications/enrolment.py (the same code as the staff enrolment), and both end in
`own_password_set`: the person sets their own password, nobody else ever sees it.

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
from django.utils.translation import gettext as _

from . import audit, enrolment
from .exceptions import DomainError
from .models import Contract, EnrolmentPurpose, EnrolmentToken, User
from .roles import MANAGE_CONTRACTS, permission_name
from .usernames import USERNAME_MESSAGE, is_valid_username, normalise_username

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
    sent = 0
    for account in _accounts_for(email):
        enrolment.link_email_send(
            user=account,
            purpose=PASSWORD_RESET,
            created_by=None,
            lifetime=lifetime,
            kind="customer_password_reset",
            topic="customer_account",
            link_url="password-reset-confirm",
            login_url="login",
            context={"company_name": account.contract.company_name},
        )
        audit.record(account, actor=None, action="customer_password_reset_request")
        sent += 1
    return sent


def link_start(*, raw_token: str, purpose: str) -> EnrolmentToken:
    """The open link `raw_token` of `purpose` (a reset, an invitation), for the page that asks for the password;
    EnrolmentTokenInvalid if it is unknown, used, voided, expired or its account stopped."""
    token = enrolment.token_find_valid(raw_token=raw_token, purpose=purpose)
    if token is None:
        raise enrolment.EnrolmentTokenInvalid
    return token


def password_reset_start(*, raw_token: str) -> EnrolmentToken:
    return link_start(raw_token=raw_token, purpose=PASSWORD_RESET)


@transaction.atomic
def own_password_set(*, raw_token: str, purpose: str, password: str, action: str) -> User:
    """The account sets its own password through its link, once: the link is used up, every session of the account
    ends (it logs in again with the new password), the lockouts of its ユーザーID are lifted, audited as `action`.
    The one way a customer's password is set by the customer: the reset and the invitation."""
    token = enrolment.token_lock_valid(raw_token=raw_token, purpose=purpose)
    if token is None:
        raise enrolment.EnrolmentTokenInvalid
    account = User.objects.select_for_update(no_key=True).get(pk=token.user_id)
    own_password_validate(password, account)
    account.set_password(password)
    account.session_epoch += 1
    account.save(update_fields=["password", "session_epoch"])
    enrolment.token_consume(token=token)
    transaction.on_commit(lambda: axes_reset(username=account.username))
    audit.record(account, actor=account, action=action)
    return account


def password_reset_complete(*, raw_token: str, password: str) -> User:
    """Set the account's new password through its reset link (see `own_password_set`)."""
    return own_password_set(
        raw_token=raw_token, purpose=PASSWORD_RESET, password=password, action="customer_password_reset"
    )


# Invitations (SPEC §11: several accounts per office; the centre or the office's 管理者 invites) ------------------

CUSTOMER_INVITATION = EnrolmentPurpose.CUSTOMER_INVITATION


def _may_manage_accounts_of(actor: User, contract: Contract) -> bool:
    """Centre staff who manage contracts, or an active 管理者 of this very office."""
    if actor.is_staff:
        return actor.is_active and actor.has_perm(permission_name(MANAGE_CONTRACTS))
    return actor.is_active and actor.is_office_admin and actor.contract_id == contract.pk


def _require_account_manager(actor: User, contract: Contract) -> None:
    if not _may_manage_accounts_of(actor, contract):
        raise DomainError(_("この操作を行う権限がありません。"), code="permission_denied")


def _invitation_send(account: User, *, actor: User) -> EnrolmentToken:
    return enrolment.link_email_send(
        user=account,
        purpose=CUSTOMER_INVITATION,
        created_by=actor,
        lifetime=datetime.timedelta(hours=settings.NSS_CUSTOMER_INVITATION_HOURS),
        kind="customer_invitation",
        topic="customer_account",
        link_url="invitation",
        login_url="login",
        context={
            "company_name": account.contract.company_name,
            "office_name": account.contract.office_name,
            "invited_by": actor.full_name or actor.username,
        },
    )


@transaction.atomic
def customer_invite(
    *,
    actor: User,
    contract: Contract,
    username: str,
    full_name: str,
    email: str,
    department: str = "",
    phone: str = "",
    office_admin: bool = False,
) -> EnrolmentToken:
    """A new customer account of `contract`, with no usable password, and an invitation link to its own address:
    the person sets their own password (nobody else ever sees it). Only centre staff make an office 管理者."""
    _require_account_manager(actor, contract)
    if office_admin and not actor.is_staff:
        raise DomainError(
            _("管理者の権限はNACCSセンターだけが付与できます。"), field="office_admin", code="admin_by_centre"
        )
    username = normalise_username(username)
    if not is_valid_username(username):
        raise DomainError(USERNAME_MESSAGE, field="username", code="username_shape")
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(
            _("ユーザーID %(username)s はすでに使われています。") % {"username": username},
            field="username",
            code="username_taken",
        )
    account = User(
        username=username,
        contract=contract,
        full_name=full_name.strip(),
        email=email.strip(),
        department=department.strip(),
        phone=phone.strip(),
        is_office_admin=office_admin,
    )
    account.set_unusable_password()
    account.save()
    token = _invitation_send(account, actor=actor)
    audit.record(
        contract, actor=actor, action="customer_invite", username=account.username, office_admin=office_admin
    )
    return token


@transaction.atomic
def customer_invitation_resend(*, actor: User, account: User) -> EnrolmentToken:
    """A new invitation link for an account that has not set its password yet (the old link stops working)."""
    _require_account_manager(actor, account.contract)
    if account.has_usable_password():
        raise DomainError(_("このアカウントはすでにパスワードを設定しています。"), code="invitation_accepted")
    token = _invitation_send(account, actor=actor)
    audit.record(
        account.contract, actor=actor, action="customer_invitation_resend", username=account.username
    )
    return token


@transaction.atomic
def customer_account_stop(*, actor: User, account: User) -> User:
    """停止: the account can no longer log in and every session of it ends; its open links are void."""
    _require_account_manager(actor, account.contract)
    if account.pk == actor.pk:
        raise DomainError(_("自分のアカウントは停止できません。"), code="self_stop")
    locked = User.objects.select_for_update(no_key=True).get(pk=account.pk)
    if not locked.is_active:
        return locked
    locked.is_active = False
    locked.session_epoch += 1
    locked.save(update_fields=["is_active", "session_epoch"])
    enrolment.token_void_open(user=locked)
    audit.record(locked.contract, actor=actor, action="customer_account_stop", username=locked.username)
    return locked


def invitation_start(*, raw_token: str) -> EnrolmentToken:
    return link_start(raw_token=raw_token, purpose=CUSTOMER_INVITATION)


def invitation_accept(*, raw_token: str, password: str) -> User:
    """The invited person sets their own password (see `own_password_set`); the account can log in from now."""
    return own_password_set(
        raw_token=raw_token,
        purpose=CUSTOMER_INVITATION,
        password=password,
        action="customer_invitation_accept",
    )
