"""The NACCS centre's actions on an application (SPEC §4). One function per action, each one transaction that
locks the application row first and re-checks its state under the lock, so that two staff acting at once
cannot both succeed: the second is refused with a message and nothing of it is applied."""

import base64
import datetime
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications import audit, business_calendar, clock, crypto, passwords, workflow
from applications.exceptions import ApplicationError
from applications.identifier_allocation import pick_identifiers
from applications.models import (
    Application,
    ApplicationStatus,
    Contract,
    NaccsUserId,
    ProgressNotice,
    User,
)
from applications.roles import STAFF_ROLES, role_of
from applications.rules import format_date_ja
from notifications.services import email_application_approved_queue, email_application_rejected_queue

PERM_REVIEW = "applications.review_application"
PERM_APPROVE = "applications.approve_application"


def _require(actor: User, permission: str) -> None:
    if not (actor.is_active and actor.is_staff and actor.has_perm(permission)):
        raise ApplicationError(_("この操作を行う権限がありません。"), code="permission_denied")


def _locked(application_id: int) -> Application:
    # of=("self",): lock the application only; the contract row is locked by approval alone (identifier allocation),
    # so staff working on different applications of one office do not wait for each other.
    return (
        Application.objects.select_for_update(of=("self",), no_key=True)
        .select_related("contract")
        .get(pk=application_id)
    )


def _expect_version(application: Application, seen_status: str | None) -> None:
    """The page the staff member acted on showed `seen_status`; if it changed meanwhile, say so."""
    if seen_status is not None and application.status != seen_status:
        raise workflow.IllegalTransition(
            _("この申込は他の担当者により「%(status)s」に更新されています。画面を更新してください。")
            % {"status": ApplicationStatus(application.status).label},
            code="stale",
        )


def confirmed_start_date_default(application: Application, *, today: datetime.date) -> datetime.date:
    """The desired date when it still qualifies (a business day after today); otherwise the next business day."""
    earliest = business_calendar.next_business_day(today)
    desired = application.desired_start_date or earliest
    return business_calendar.business_day_on_or_after(max(desired, earliest))


def check_confirmed_start_date(day: datetime.date, *, today: datetime.date) -> None:
    if not business_calendar.is_business_day(day):
        raise ApplicationError(
            _("%(date)sは営業日ではありません。") % {"date": format_date_ja(day)},
            field="start_date",
            code="not_business_day",
        )
    if day <= today:
        raise ApplicationError(
            _("利用開始日は翌営業日以降の日付を指定してください。"), field="start_date", code="too_early"
        )


def _check_four_eyes(application: Application, actor: User) -> None:
    """With NSS_FOUR_EYES on, only an approver approves, and never the reviewer who took the application."""
    if not settings.NSS_FOUR_EYES:
        return
    if not actor.has_perm(PERM_APPROVE):
        raise ApplicationError(_("承認には承認者の権限が必要です（4つの目の原則）。"), code="four_eyes_role")
    if application.reviewer_id == actor.pk:
        raise ApplicationError(
            _(
                "この申込を担当した審査担当者は承認できません。別の承認者が承認してください（4つの目の原則）。"
            ),
            code="four_eyes_same_person",
        )


@transaction.atomic
def application_take(*, application: Application, actor: User) -> Application:
    """担当する: 受付 → 内容確認中, the actor becomes the application's reviewer."""
    _require(actor, PERM_REVIEW)
    locked = _locked(application.pk)
    old = workflow.transition(locked, ApplicationStatus.UNDER_REVIEW)
    locked.reviewer = actor
    locked.taken_at = clock.now()
    locked.save(update_fields=["status", "reviewer", "taken_at", "updated_at"])
    audit.record(locked, actor=actor, action="application_take", changes={"status": [old, locked.status]})
    return locked


def _initial_credentials(count: int) -> list[tuple[str, str]]:
    """(hash, encrypted) of `count` fresh initial passwords. Hashing is deliberately slow, so this runs before
    any row is locked; the plaintext lives only in this function."""
    credentials = []
    for _index in range(count):
        password = passwords.generate_initial_password()
        credentials.append((passwords.hash_naccs_password(password), crypto.encrypt(password)))
    return credentials


def application_approve(
    *,
    application: Application,
    actor: User,
    start_date: datetime.date | None = None,
    seen_status: str | None = None,
) -> list[NaccsUserId]:
    """審査終了: confirm the start date, issue one 利用者ID with an initial password per asked ID, post the notice
    when the date differs from the desired one, and queue 【NSS】利用申込確認完了のお知らせ — all or nothing."""
    _require(actor, PERM_REVIEW)
    # The asked IDs cannot change after submission, so their credentials are prepared outside the locks.
    credentials = _initial_credentials(application.items.count())
    with transaction.atomic():
        return _approve_locked(
            application=application,
            actor=actor,
            start_date=start_date,
            seen_status=seen_status,
            credentials=credentials,
        )


def _approve_locked(*, application, actor, start_date, seen_status, credentials) -> list[NaccsUserId]:
    locked = _locked(application.pk)
    _expect_version(locked, seen_status)
    old = workflow.transition(locked, ApplicationStatus.APPROVED)
    _check_four_eyes(locked, actor)
    today = clock.today()
    confirmed = start_date or confirmed_start_date_default(locked, today=today)
    check_confirmed_start_date(confirmed, today=today)

    # Lock the contract: approvals in one contract are serialised, so two never pick the same 識別番号
    # (the unique constraint on (contract, identifier) is the backstop).
    contract = Contract.objects.select_for_update(no_key=True).get(pk=locked.contract_id)
    items = list(locked.items.select_related("processing_method").order_by("id"))
    taken = set(contract.naccs_user_ids.values_list("identifier", flat=True))
    identifiers = pick_identifiers([item.desired_identifier for item in items], taken)
    issued = [
        NaccsUserId.objects.create(
            contract=contract,
            identifier=identifier,
            processing_method=item.processing_method,
            is_customs_broker=True,
            start_date=confirmed,
            issued_by=locked,
            item=item,
            broker_name=item.broker_name,
            password_hash=password_hash,
            initial_password_encrypted=encrypted,
        )
        for item, identifier, (password_hash, encrypted) in zip(items, identifiers, credentials, strict=True)
    ]

    locked.start_date = confirmed
    locked.decided_by = actor
    locked.decided_at = clock.now()
    locked.save(update_fields=["status", "start_date", "decided_by", "decided_at", "updated_at"])
    if locked.start_date_differs:
        # Stored text the customer reads: always in the portal's language, whatever the staff member's UI is in.
        with translation.override(settings.LANGUAGE_CODE):
            text = _("NACCSのご利用は%(month)d月%(day)d日から可能です。") % {
                "month": confirmed.month,
                "day": confirmed.day,
            }
        ProgressNotice.objects.create(application=locked, text=text, is_automatic=True, posted_at=clock.now())
    audit.record(
        locked,
        actor=actor,
        action="application_approve",
        changes={"status": [old, locked.status], "start_date": [locked.desired_start_date, confirmed]},
        issued=[f"{contract.user_code}{naccs_id.identifier}" for naccs_id in issued],
    )
    email_application_approved_queue(
        application_id=locked.pk,
        to=locked.applicant_email,
        context=_email_context(locked, start_date=format_date_ja(confirmed)),
    )
    return issued


@transaction.atomic
def application_reject(
    *, application: Application, actor: User, reason: str, seen_status: str | None = None
) -> Application:
    """不受理: the reason is shown to the customer and sent in 不受理のお知らせ."""
    _require(actor, PERM_REVIEW)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("不受理の理由を入力してください。"), field="reason", code="required")
    locked = _locked(application.pk)
    _expect_version(locked, seen_status)
    old = workflow.transition(locked, ApplicationStatus.REJECTED)
    locked.rejection_reason = reason
    locked.decided_by = actor
    locked.decided_at = clock.now()
    locked.save(update_fields=["status", "rejection_reason", "decided_by", "decided_at", "updated_at"])
    audit.record(
        locked,
        actor=actor,
        action="application_reject",
        changes={"status": [old, locked.status]},
        reason=reason,
    )
    email_application_rejected_queue(
        application_id=locked.pk, to=locked.applicant_email, context=_email_context(locked, reason=reason)
    )
    return locked


@transaction.atomic
def progress_notice_post(*, application: Application, actor: User, text: str) -> ProgressNotice:
    """A free-text 進行状況 notice the customer reads on 詳細."""
    _require(actor, PERM_REVIEW)
    text = (text or "").strip()
    if not text:
        raise ApplicationError(_("通知内容を入力してください。"), field="text", code="required")
    locked = _locked(application.pk)
    if locked.status == ApplicationStatus.DRAFT:
        raise workflow.IllegalTransition(_("作成中の申込には通知できません。"), code="draft")
    notice = ProgressNotice.objects.create(
        application=locked, text=text, posted_by=actor, posted_at=clock.now()
    )
    audit.record(locked, actor=actor, action="progress_notice_post", text=text)
    return notice


def _email_context(application: Application, **extra) -> dict:
    detail = reverse("applications:application-detail", kwargs={"pk": application.pk})
    return {
        "login_url": f"{settings.NSS_BASE_URL.rstrip('/')}{reverse('login')}?{urlencode({'next': detail}, safe='/')}",
        "reception_number": application.reception_number,
        "application_id": application.pk,
        "company_name": application.contract.company_name,
        "office_name": application.contract.office_name,
        "applicant_department": application.applicant_department,
        "applicant_name": application.applicant_name,
        **extra,
    }


# Staff accounts (SPEC §1: the approver manages staff accounts) -------------------------------------------------

PERM_MANAGE_STAFF = "applications.manage_staff"


@dataclass(frozen=True)
class IssuedStaffCredentials:
    """Shown once to the approver, to hand to the new staff member; never stored in clear."""

    account: User
    password: str
    totp_secret: str


def _issue_staff_credentials(account: User) -> IssuedStaffCredentials:
    password = secrets.token_urlsafe(12)
    account.set_password(password)
    account.save(update_fields=["password"])
    TOTPDevice.objects.filter(user=account).delete()
    device = TOTPDevice.objects.create(user=account, name="authenticator", confirmed=True)
    secret = base64.b32encode(bytes.fromhex(device.key)).decode()
    return IssuedStaffCredentials(account=account, password=password, totp_secret=secret)


def _set_role(account: User, role: str) -> None:
    if role not in STAFF_ROLES:
        raise ApplicationError(_("役割を選択してください。"), field="role", code="role")
    account.groups.set(Group.objects.filter(name=role))


@transaction.atomic
def staff_account_create(
    *, actor: User, username: str, full_name: str, email: str, role: str
) -> IssuedStaffCredentials:
    """A new NACCS centre staff account with a one-time password and a new TOTP secret."""
    _require(actor, PERM_MANAGE_STAFF)
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(
            _("このユーザーIDは既に使われています。"), field="username", code="username_taken"
        )
    account = User.objects.create(
        username=username, full_name=full_name, email=email, is_staff=True, contract=None, is_active=True
    )
    _set_role(account, role)
    credentials = _issue_staff_credentials(account)
    audit.record(account, actor=actor, action="staff_account_create", role=role)
    return credentials


@transaction.atomic
def staff_account_update(*, actor: User, account: User, role: str, is_active: bool) -> User:
    """Change a staff member's role, or stop / resume the account. Nobody stops their own account."""
    _require(actor, PERM_MANAGE_STAFF)
    locked = User.objects.select_for_update(no_key=True).get(pk=account.pk, is_staff=True)
    if locked.pk == actor.pk and not is_active:
        raise ApplicationError(
            _("自分のアカウントは停止できません。"), field="is_active", code="self_deactivate"
        )
    old_role = role_of(locked)
    _set_role(locked, role)
    old_active = locked.is_active
    locked.is_active = is_active
    locked.save(update_fields=["is_active"])
    audit.record(
        locked,
        actor=actor,
        action="staff_account_update",
        changes={"role": [old_role, role], "is_active": [old_active, is_active]},
    )
    return locked


@transaction.atomic
def staff_credentials_reset(*, actor: User, account: User) -> IssuedStaffCredentials:
    """A lost phone or a forgotten password: new one-time password and TOTP secret; the old ones stop working."""
    _require(actor, PERM_MANAGE_STAFF)
    locked = User.objects.select_for_update(no_key=True).get(pk=account.pk, is_staff=True)
    credentials = _issue_staff_credentials(locked)
    audit.record(locked, actor=actor, action="staff_credentials_reset")
    return credentials
