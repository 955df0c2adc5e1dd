"""The NACCS centre's actions on an application (SPEC §4). One function per action, each one transaction that
locks the application row first and re-checks its state under the lock, so that two staff acting at once
cannot both succeed: the second is refused with a message and nothing of it is applied."""

import base64
import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications import (
    audit,
    authenticators,
    business_calendar,
    clock,
    crypto,
    dates,
    enrolment,
    kinds,
    passwords,
    rules,
    workflow,
)
from applications.accounts import own_password_validate
from applications.contract_import import ImportReport, contracts_import
from applications.email_context import application_email_context
from applications.exceptions import DomainError
from applications.identifier_allocation import pick_identifiers
from applications.identifiers import user_code_clean
from applications.models import (
    Application,
    ApplicationStatus,
    Contract,
    EnrolmentPurpose,
    EnrolmentToken,
    InternalNote,
    NaccsUserId,
    ProgressNotice,
    User,
)
from applications.roles import (
    APPROVER,
    STAFF_ROLES,
    role_of,
)
from notifications.models import Email
from notifications.services import (
    email_application_approved_queue,
    email_application_rejected_queue,
    email_application_start_date_changed_queue,
    email_resend,
)

from . import selectors
from .permissions import (
    PERM_APPROVE,
    PERM_MANAGE_CONTRACTS,
    PERM_MANAGE_STAFF,
    PERM_REVIEW,
    four_eyes_refusal,
    permission_refusal,
    progress_notice_refusal,
)


def _require(actor: User, permission: str) -> None:
    refusal = permission_refusal(actor, permission)
    if refusal:
        raise refusal


def _locked(application_id: int) -> Application:
    # of=("self",): lock the application only; the contract row is locked by approval alone (identifier allocation),
    # so staff working on different applications of one office do not wait for each other.
    return (
        Application.objects.select_for_update(of=("self",), no_key=True)
        .select_related("contract")
        .get(pk=application_id)
    )


def _required_text(value: str | None, *, field: str, message: str) -> str:
    """Free text a staff action needs (a reason, a notice, a memo), stripped; blank is refused on its field."""
    text = (value or "").strip()
    if not text:
        raise DomainError(message, field=field, code="required")
    return text


def _expect_version(application: Application, seen_status: str | None) -> None:
    """The page the staff member acted on showed `seen_status`; if it changed meanwhile, say so."""
    if seen_status is not None and application.status != seen_status:
        raise workflow.IllegalTransition(
            _("この申込は他の担当者により「%(status)s」に更新されています。画面を更新してください。")
            % {"status": ApplicationStatus(application.status).label},
            code="stale",
        )


def confirmed_start_date_default(application: Application, *, today: datetime.date) -> datetime.date:
    """The desired date (利用開始希望日, or a removal's 利用終了希望日) when it still qualifies (a business day after
    today); otherwise the next business day."""
    earliest = business_calendar.next_business_day(today)
    desired = kinds.kind_of(application).desired_date(application) or earliest
    return business_calendar.business_day_on_or_after(max(desired, earliest))


def check_confirmed_start_date(day: datetime.date, *, today: datetime.date) -> None:
    if not business_calendar.is_business_day(day):
        raise DomainError(
            _("%(date)sは営業日ではありません。") % {"date": dates.format_date(day)},
            field="start_date",
            code="not_business_day",
        )
    if day <= today:
        raise DomainError(
            _("利用開始日は翌営業日以降の日付を指定してください。"), field="start_date", code="too_early"
        )


def _check_four_eyes(application: Application, actor: User) -> None:
    refusal = four_eyes_refusal(application, actor)
    if refusal:
        raise refusal


def _holder_name(application: Application) -> str:
    """The ユーザーID of who holds the (locked) application, read by its id: a row locked after waiting for
    another transaction is re-read by PostgreSQL, but a joined row would not be (so no select_related here)."""
    if not application.reviewer_id:
        return ""
    return User.objects.filter(pk=application.reviewer_id).values_list("username", flat=True).first() or ""


def _expect_holder(application: Application, seen_reviewer_id: int | None) -> None:
    """The page showed `seen_reviewer_id` as the holder (0: nobody); if another holds it now, say who."""
    if seen_reviewer_id is not None and (application.reviewer_id or 0) != seen_reviewer_id:
        raise workflow.IllegalTransition(
            _("この申込の担当者は変更されています（現在の担当者：%(holder)s）。画面を更新してください。")
            % {"holder": _holder_name(application) or _("なし")},
            code="stale",
        )


@transaction.atomic
def application_take(*, application: Application, actor: User) -> Application:
    """担当する: 受付 → 内容確認中, the actor becomes the application's reviewer. One someone holds already is
    refused with the holder's name (SPEC §8)."""
    _require(actor, PERM_REVIEW)
    locked = _locked(application.pk)
    if locked.status == ApplicationStatus.UNDER_REVIEW and locked.reviewer_id:
        if locked.reviewer_id == actor.pk:
            raise DomainError(_("この申込はすでにあなたが担当しています。"), code="already_yours")
        raise DomainError(
            _("%(holder)sが担当しています。") % {"holder": _holder_name(locked)}, code="held_by_another"
        )
    old = workflow.transition(locked, ApplicationStatus.UNDER_REVIEW)
    locked.reviewer = actor
    locked.taken_at = clock.now()
    locked.save(update_fields=["status", "reviewer", "taken_at", "updated_at"])
    audit.record(
        locked,
        actor=actor,
        action="application_take",
        changes={"status": [old, locked.status], "reviewer": [None, actor.get_username()]},
    )
    return locked


@dataclass(frozen=True)
class BulkResult:
    """One row of 「選択した申込を担当する」: its reception number, whether it was taken, and what to say."""

    application_id: int
    reception_number: str
    taken: bool
    message: str


def applications_bulk_take(*, application_ids: Iterable[int], actor: User) -> list[BulkResult]:
    """選択した申込を担当する (SPEC §8): each application is its own transaction (application_take), so one that
    cannot be taken does not undo the others; one result per application, in the order given."""
    _require(actor, PERM_REVIEW)
    ids = list(dict.fromkeys(application_ids))
    if not ids:
        raise DomainError(_("担当する申込を選択してください。"), field="applications", code="required")
    if len(ids) > selectors.PAGE_SIZE:
        raise DomainError(
            _("一度に担当できるのは%(limit)d件までです。") % {"limit": selectors.PAGE_SIZE},
            field="applications",
            code="too_many",
        )
    found = {
        application.pk: application
        for application in Application.objects.exclude(status=ApplicationStatus.DRAFT).filter(pk__in=ids)
    }
    results = []
    for pk in ids:
        application = found.get(pk)
        if application is None:
            results.append(BulkResult(pk, "", False, _("申込が見つかりません。")))
            continue
        try:
            application_take(application=application, actor=actor)
        except DomainError as error:
            results.append(BulkResult(pk, application.reception_number, False, error.message))
        else:
            results.append(BulkResult(pk, application.reception_number, True, _("担当しました。")))
    return results


@transaction.atomic
def application_release(
    *, application: Application, actor: User, seen_reviewer_id: int | None = None
) -> Application:
    """担当を外す: 内容確認中 → 受付, nobody holds it. The holder gives back their own; an approver may give back
    anyone's (someone away)."""
    _require(actor, PERM_REVIEW)
    locked = _locked(application.pk)
    _expect_holder(locked, seen_reviewer_id)
    if locked.reviewer_id not in (None, actor.pk) and not actor.has_perm(PERM_APPROVE):
        raise DomainError(
            _("%(holder)sが担当しています。担当を外せるのは担当者本人か承認者です。")
            % {"holder": _holder_name(locked)},
            code="not_holder",
        )
    old = workflow.transition(locked, ApplicationStatus.SUBMITTED)
    holder = _holder_name(locked)
    locked.reviewer = None
    locked.taken_at = None
    locked.save(update_fields=["status", "reviewer", "taken_at", "updated_at"])
    audit.record(
        locked,
        actor=actor,
        action="application_release",
        changes={"status": [old, locked.status], "reviewer": [holder or None, None]},
    )
    return locked


@transaction.atomic
def application_reassign(
    *, application: Application, actor: User, reviewer: User, seen_reviewer_id: int | None = None
) -> Application:
    """担当者を変更 (approvers): an open application goes to another staff member who can review (one still 受付
    is taken for them: 内容確認中)."""
    _require(actor, PERM_APPROVE)
    locked = _locked(application.pk)
    _expect_holder(locked, seen_reviewer_id)
    if locked.status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW):
        raise workflow.IllegalTransition(
            _("この申込は「%(status)s」のため担当者を変更できません。")
            % {"status": ApplicationStatus(locked.status).label},
            code="illegal_transition",
        )
    target = selectors.assignable_staff().filter(pk=reviewer.pk).first()
    if target is None:
        raise DomainError(
            _("審査を担当できるスタッフを選択してください。"), field="reviewer", code="not_assignable"
        )
    if target.pk == locked.reviewer_id:
        raise DomainError(
            _("%(holder)sがすでに担当しています。") % {"holder": target.get_username()},
            field="reviewer",
            code="same_reviewer",
        )
    changes = {"reviewer": [_holder_name(locked) or None, target.get_username()]}
    if locked.status == ApplicationStatus.SUBMITTED:
        old = workflow.transition(locked, ApplicationStatus.UNDER_REVIEW)
        changes = {"status": [old, locked.status], **changes}
    locked.reviewer = target
    locked.taken_at = clock.now()
    locked.save(update_fields=["status", "reviewer", "taken_at", "updated_at"])
    audit.record(locked, actor=actor, action="application_reassign", changes=changes)
    return locked


def _initial_credentials(count: int) -> list[tuple[str, str]]:
    """(hash, encrypted) of `count` fresh initial passwords. Hashing is deliberately slow, so this runs before
    any row is locked; the plaintext lives only in this function."""
    credentials = []
    for _index in range(count):
        password = passwords.generate_initial_password()
        credentials.append((passwords.hash_naccs_password(password), crypto.encrypt(password)))
    return credentials


def _dated_notice(day: datetime.date, *, with_year: bool, dated, undated) -> str:
    """A stored 進行状況 notice naming `day`: `dated` (with %(year)d) or `undated` (%(month)d and %(day)d only),
    always in the portal's language, whatever the staff member's screen is in — the customer reads it."""
    with translation.override(settings.LANGUAGE_CODE):
        text = dated if with_year else undated
        return str(text) % {"year": day.year, "month": day.month, "day": day.day}


def _year_needed(day: datetime.date, *, today: datetime.date) -> bool:
    """The guide's 「○月○日」 names the year too when the day is not in this year (a December approval of a
    January date), so that it cannot be misread."""
    return day.year != today.year


def start_date_notice_text(day: datetime.date, *, with_year: bool = False) -> str:
    """The automatic 進行状況 notice of a start date (SPEC §4, §8)."""
    return _dated_notice(
        day,
        with_year=with_year,
        dated=gettext_lazy("NACCSのご利用は%(year)d年%(month)d月%(day)d日から可能です。"),
        undated=gettext_lazy("NACCSのご利用は%(month)d月%(day)d日から可能です。"),
    )


def approval_notice_text(day: datetime.date, *, today: datetime.date) -> str:
    """The notice approval posts when the start date is not the desired one (SPEC §4)."""
    return start_date_notice_text(day, with_year=_year_needed(day, today=today))


def removal_notice_text(day: datetime.date, *, today: datetime.date) -> str:
    """The notice approval of 通関士IDの削除 posts when the 利用終了日 is not the desired one: the removed IDs
    stop working from that day (00:00 Japan time), dated as approval_notice_text is."""
    return _dated_notice(
        day,
        with_year=_year_needed(day, today=today),
        dated=gettext_lazy("削除する通関士IDは%(year)d年%(month)d月%(day)d日から利用できなくなります。"),
        undated=gettext_lazy("削除する通関士IDは%(month)d月%(day)d日から利用できなくなります。"),
    )


def _desired_date_moved(application: Application, confirmed: datetime.date) -> datetime.date | None:
    """The date the customer asked for when the date approval fixes is another one; None when it is the same, or
    when the kind asks for no date. What the automatic notice and the plan's warning are posted on."""
    desired = kinds.kind_of(application).desired_date(application)
    return desired if desired is not None and confirmed != desired else None


def _approval_notice(
    application: Application, confirmed: datetime.date, *, today: datetime.date
) -> str | None:
    """The automatic notice approval posts, or None: one when the date approval fixes is not the one the
    customer asked for (SPEC §4; a removal's 利用終了日 likewise). The approval plan shows it and approval posts
    it, from here both."""
    if _desired_date_moved(application, confirmed) is None:
        return None
    if kinds.kind_of(application).approval == kinds.REVOKE:
        return removal_notice_text(confirmed, today=today)
    return approval_notice_text(confirmed, today=today)


@dataclass(frozen=True)
class PlannedId:
    """One 利用者ID approval would issue."""

    naccs_user_id: str
    identifier: str
    processing_method: str
    broker_name: str
    desired_identifier: str

    @property
    def desired_unavailable(self) -> bool:
        return bool(self.desired_identifier) and self.desired_identifier != self.identifier


@dataclass(frozen=True)
class ApprovalPlan:
    """承認内容の確認 (SPEC §8): what 「承認する（IDを払い出す）」 will do, computed without changing anything.
    `confirmation` names this exact plan: approval with it is refused when the application or the IDs it would
    issue have changed since (a stale confirmation)."""

    application: Application
    start_date: datetime.date | None  # None: a kind with no date to confirm (パスワードの初期化)
    ids: list[PlannedId]
    notice_text: str | None
    warnings: list[str]
    confirmation: str


def _approval_confirmation(
    application: Application, start_date: datetime.date | None, identifiers, notice_text: str | None
) -> str:
    material = "|".join(
        [
            str(application.pk),
            application.status,
            str(application.reviewer_id),
            application.updated_at.isoformat(),
            start_date.isoformat() if start_date else "",
            ",".join(identifiers),
            notice_text or "",
        ]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _expect_confirmation(confirmation: str | None, expected: str) -> None:
    """Approval from the confirmation screen does exactly what that screen showed, or nothing (None: a caller
    without a screen, the seeds and the benchmarks)."""
    if confirmation is not None and confirmation != expected:
        raise workflow.IllegalTransition(
            _(
                "確認した後に申込または払い出す利用者IDが変わりました。もう一度「承認内容を確認する」から確認してください。"
            ),
            code="stale_confirmation",
        )


def _approval_checks(application: Application, actor: User, start_date: datetime.date | None):
    """The refusals approval and its preview share: the status, four-eyes and the start date. Returns the
    confirmed start date (利用開始日, or a removal's 利用終了日); None for a kind whose approval takes effect at once
    (パスワードの初期化), which has no date to confirm."""
    if not workflow.can_transition(application.status, ApplicationStatus.APPROVED):
        workflow.transition(application, ApplicationStatus.APPROVED)  # raises the illegal-transition message
    _check_four_eyes(application, actor)
    if kinds.kind_of(application).confirmed_date_label is None:
        return None
    today = clock.today()
    confirmed = start_date or confirmed_start_date_default(application, today=today)
    check_confirmed_start_date(confirmed, today=today)
    return confirmed


def _approval_warnings(
    application: Application, start_date: datetime.date, ids: list[PlannedId]
) -> list[str]:
    warnings = []
    desired = _desired_date_moved(application, start_date)
    if desired is not None:
        warnings.append(
            _(
                "利用開始日が利用開始希望日（%(desired)s）と異なります。お客様の進行状況に変更の通知が自動で掲示されます。"
            )
            % {"desired": dates.format_date(desired)}
        )
    latest = rules.latest_start_date(clock.local_date(application.submitted_at))
    if start_date > latest:
        warnings.append(
            _(
                "利用開始日がお客様の指定できる期間（申込日から%(months)dか月以内、%(latest)sまで）を超えています。"
            )
            % {"months": settings.NSS_START_DATE_MAX_MONTHS, "latest": dates.format_date(latest)}
        )
    for planned in ids:
        if planned.desired_unavailable:
            warnings.append(
                _("希望識別番号%(desired)sは使用済みのため、%(identifier)sを払い出します。")
                % {"desired": planned.desired_identifier, "identifier": planned.identifier}
            )
    return warnings


def _planned_identifiers(contract: Contract, items) -> list[str]:
    taken = set(contract.naccs_user_ids.values_list("identifier", flat=True))
    return pick_identifiers([item.desired_identifier for item in items], taken)


def approval_plan(
    *,
    application: Application,
    actor: User,
    start_date: datetime.date | None = None,
    seen_status: str | None = None,
) -> ApprovalPlan:
    """承認内容を確認する: every 利用者ID approval would issue now, the start date, the notice it would post and
    the warnings — refused exactly as approval would be (a stale page included), and nothing written."""
    _require(actor, PERM_REVIEW)
    _expect_version(application, seen_status)
    confirmed = _approval_checks(application, actor, start_date)
    if kinds.kind_of(application).approval == kinds.REVOKE:
        return _removal_plan(application, confirmed)
    if kinds.kind_of(application).approval == kinds.RESET:
        return _reset_plan(application)
    items = list(application.items.select_related("processing_method").order_by("id"))
    identifiers = _planned_identifiers(application.contract, items)
    user_code = application.contract.user_code
    ids = [
        PlannedId(
            naccs_user_id=f"{user_code}{identifier}",
            identifier=identifier,
            processing_method=item.processing_method.label,
            broker_name=item.broker_name,
            desired_identifier=item.desired_identifier,
        )
        for item, identifier in zip(items, identifiers, strict=True)
    ]
    notice_text = _approval_notice(application, confirmed, today=clock.today())
    return ApprovalPlan(
        application=application,
        start_date=confirmed,
        ids=ids,
        notice_text=notice_text,
        warnings=_approval_warnings(application, confirmed, ids),
        confirmation=_approval_confirmation(application, confirmed, identifiers, notice_text),
    )


def _target_ids(application: Application) -> list[PlannedId]:
    user_code = application.contract.user_code
    items = application.items.select_related("processing_method", "target").order_by("id")
    return [
        PlannedId(
            naccs_user_id=f"{user_code}{item.target.identifier}",
            identifier=item.target.identifier,
            processing_method=item.processing_method.label,
            broker_name=item.target.broker_name,
            desired_identifier="",
        )
        for item in items
    ]


def _removal_plan(application: Application, end_date: datetime.date) -> ApprovalPlan:
    """通関士IDの削除 (SPEC §9): approval fixes the 利用終了日 and revokes the chosen IDs from that day, posting
    removal_notice_text when it is not the desired one."""
    ids = _target_ids(application)
    warnings = []
    desired = _desired_date_moved(application, end_date)
    if desired is not None:
        warnings.append(
            _(
                "利用終了日が利用終了希望日（%(desired)s）と異なります。お客様の進行状況に変更の通知が自動で掲示されます。"
            )
            % {"desired": dates.format_date(desired)}
        )
    notice_text = _approval_notice(application, end_date, today=clock.today())
    return ApprovalPlan(
        application=application,
        start_date=end_date,
        ids=ids,
        notice_text=notice_text,
        warnings=warnings,
        confirmation=_approval_confirmation(
            application, end_date, [planned.identifier for planned in ids], notice_text
        ),
    )


def _reset_plan(application: Application) -> ApprovalPlan:
    """パスワードの初期化 (SPEC §9): approval makes a new initial password for each chosen ID at once; the old one
    stops working then."""
    ids = _target_ids(application)
    return ApprovalPlan(
        application=application,
        start_date=None,
        ids=ids,
        notice_text=None,
        warnings=[],
        confirmation=_approval_confirmation(application, None, [planned.identifier for planned in ids], None),
    )


def _approval_notice_post(application: Application, notice_text: str | None) -> None:
    """Post the automatic notice of `_approval_notice` (nothing for None)."""
    if notice_text is not None:
        ProgressNotice.objects.create(
            application=application, text=notice_text, is_automatic=True, posted_at=clock.now()
        )


def application_approve(
    *,
    application: Application,
    actor: User,
    start_date: datetime.date | None = None,
    seen_status: str | None = None,
    confirmation: str | None = None,
) -> list[NaccsUserId]:
    """審査終了: confirm the start date, issue one 利用者ID with an initial password per asked ID, post the notice
    when the date differs from the desired one, and queue 【NSS】利用申込確認完了のお知らせ — all or nothing.
    With `confirmation` (from approval_plan, as the screens always pass it), approval is refused unless it would
    do exactly what was confirmed."""
    _require(actor, PERM_REVIEW)
    if kinds.kind_of(application).approval == kinds.REVOKE:
        with transaction.atomic():
            return _approve_removal_locked(
                application=application,
                actor=actor,
                end_date=start_date,
                seen_status=seen_status,
                confirmation=confirmation,
            )
    # The asked IDs cannot change after submission, so their credentials are prepared outside the locks.
    credentials = _initial_credentials(application.items.count())
    if kinds.kind_of(application).approval == kinds.RESET:
        with transaction.atomic():
            return _approve_reset_locked(
                application=application,
                actor=actor,
                seen_status=seen_status,
                confirmation=confirmation,
                credentials=credentials,
            )
    with transaction.atomic():
        return _approve_locked(
            application=application,
            actor=actor,
            start_date=start_date,
            seen_status=seen_status,
            confirmation=confirmation,
            credentials=credentials,
        )


def _approve_locked(
    *, application, actor, start_date, seen_status, confirmation, credentials
) -> list[NaccsUserId]:
    locked = _locked(application.pk)
    _expect_version(locked, seen_status)
    confirmed = _approval_checks(locked, actor, start_date)

    # Lock the contract: approvals in one contract are serialised, so two never pick the same 識別番号
    # (the unique constraint on (contract, identifier) is the backstop).
    contract = Contract.objects.select_for_update(no_key=True).get(pk=locked.contract_id)
    items = list(locked.items.select_related("processing_method").order_by("id"))
    identifiers = _planned_identifiers(contract, items)
    notice_text = _approval_notice(locked, confirmed, today=clock.today())
    _expect_confirmation(confirmation, _approval_confirmation(locked, confirmed, identifiers, notice_text))
    old = workflow.transition(locked, ApplicationStatus.APPROVED)
    issued_at = clock.now()
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
            password_issued_by=locked,
            password_issued_at=issued_at,
        )
        for item, identifier, (password_hash, encrypted) in zip(items, identifiers, credentials, strict=True)
    ]

    old_start_date, locked.start_date = locked.start_date, confirmed
    locked.decided_by = actor
    locked.decided_at = clock.now()
    locked.save(update_fields=["status", "start_date", "decided_by", "decided_at", "updated_at"])
    _approval_notice_post(locked, notice_text)
    audit.record(
        locked,
        actor=actor,
        action="application_approve",
        changes={"status": [old, locked.status], "start_date": [old_start_date, confirmed]},
        desired_start_date=locked.desired_start_date,
        issued=[f"{contract.user_code}{naccs_id.identifier}" for naccs_id in issued],
    )
    email_application_approved_queue(
        application_id=locked.pk,
        to=locked.applicant_email,
        context=application_email_context(locked, items=items),
    )
    return issued


def _approve_removal_locked(*, application, actor, end_date, seen_status, confirmation) -> list[NaccsUserId]:
    """審査終了 of a removal: the 利用終了日 (default the desired one, moved on like a start date), each removed ID
    revoked from 00:00 Japan time of that day (as the contract import stores 廃止日), the notice posted when the
    利用終了日 is not the desired one, audited, and the result e-mail queued. No ID is issued, no password made.
    Returns the revoked IDs."""
    locked = _locked(application.pk)
    _expect_version(locked, seen_status)
    confirmed = _approval_checks(locked, actor, end_date)
    planned = _target_ids(locked)
    notice_text = _approval_notice(locked, confirmed, today=clock.today())
    _expect_confirmation(
        confirmation,
        _approval_confirmation(
            locked, confirmed, [planned_id.identifier for planned_id in planned], notice_text
        ),
    )
    old = workflow.transition(locked, ApplicationStatus.APPROVED)
    items = list(locked.items.select_related("processing_method", "target").order_by("id"))
    targets = list(
        NaccsUserId.objects.select_for_update(no_key=True)
        .filter(pk__in=[item.target_id for item in items])
        .order_by("pk")
    )
    revoked_at = clock.start_of_day(confirmed)
    for target in targets:
        target.revoked_at = revoked_at
        target.save(update_fields=["revoked_at"])
    old_end_date, locked.end_date = locked.end_date, confirmed
    locked.decided_by = actor
    locked.decided_at = clock.now()
    locked.save(update_fields=["status", "end_date", "decided_by", "decided_at", "updated_at"])
    _approval_notice_post(locked, notice_text)
    user_code = locked.contract.user_code
    audit.record(
        locked,
        actor=actor,
        action="application_approve_removal",
        changes={"status": [old, locked.status], "end_date": [old_end_date, confirmed]},
        desired_end_date=locked.desired_end_date,
        removed=[f"{user_code}{target.identifier}" for target in targets],
    )
    email_application_approved_queue(
        application_id=locked.pk,
        to=locked.applicant_email,
        context=application_email_context(locked, items=items),
    )
    return targets


def _approve_reset_locked(*, application, actor, seen_status, confirmation, credentials) -> list[NaccsUserId]:
    """審査終了 of a パスワードの初期化: each chosen ID gets a new initial password (hash, and the ciphertext for the
    ID notice) at once; the old password stops working, the gateway's sessions of the ID end (they are bound to
    its password hash), and the ID answers U0001 until the new password is changed. Audited, and the result
    e-mail queued. Returns the IDs reset."""
    locked = _locked(application.pk)
    _expect_version(locked, seen_status)
    _approval_checks(locked, actor, None)
    planned = _target_ids(locked)
    _expect_confirmation(
        confirmation,
        _approval_confirmation(locked, None, [planned_id.identifier for planned_id in planned], None),
    )
    old = workflow.transition(locked, ApplicationStatus.APPROVED)
    items = list(locked.items.select_related("processing_method", "target").order_by("id"))
    targets = list(
        NaccsUserId.objects.select_for_update(no_key=True)
        .filter(pk__in=[item.target_id for item in items])
        .order_by("pk")
    )
    now = clock.now()
    for target, (password_hash, encrypted) in zip(targets, credentials, strict=True):
        target.password_hash = password_hash
        target.initial_password_encrypted = encrypted
        target.password_changed_at = None
        target.password_issued_by = locked
        target.password_issued_at = now
        target.save(
            update_fields=[
                "password_hash",
                "initial_password_encrypted",
                "password_changed_at",
                "password_issued_by",
                "password_issued_at",
            ]
        )
    locked.decided_by = actor
    locked.decided_at = now
    locked.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    user_code = locked.contract.user_code
    audit.record(
        locked,
        actor=actor,
        action="application_approve_reset",
        changes={"status": [old, locked.status]},
        reset=[f"{user_code}{target.identifier}" for target in targets],
    )
    email_application_approved_queue(
        application_id=locked.pk,
        to=locked.applicant_email,
        context=application_email_context(locked, items=items),
    )
    return targets


@transaction.atomic
def application_start_date_change(
    *,
    application: Application,
    actor: User,
    start_date: datetime.date,
    reason: str,
    seen_start_date: datetime.date | None = None,
) -> Application:
    """利用開始日を変更する (SPEC §8): an approved application's start date, before it has come, moves to another
    business day after today; its issued IDs follow, the notice 「NACCSのご利用は…年…月…日から可能です。」 is
    posted, 【NSS】利用開始日変更のお知らせ queued and the change audited with its reason — all or nothing."""
    _require(actor, PERM_REVIEW)
    reason = _required_text(reason, field="reason", message=_("変更の理由を入力してください。"))
    locked = _locked(application.pk)
    if locked.status != ApplicationStatus.APPROVED:
        raise workflow.IllegalTransition(
            _("利用開始日を変更できるのは審査終了の申込だけです。"), code="illegal_transition"
        )
    if seen_start_date is not None and locked.start_date != seen_start_date:
        raise workflow.IllegalTransition(
            _("この申込の利用開始日は他の担当者により%(date)sに変更されています。画面を更新してください。")
            % {"date": dates.format_date(locked.start_date)},
            code="stale",
        )
    _check_four_eyes(locked, actor)
    today = clock.today()
    if locked.start_date is None or locked.start_date <= today:
        raise workflow.IllegalTransition(
            _("利用開始日（%(date)s）を迎えたため、変更できません。")
            % {"date": dates.format_date(locked.start_date)},
            code="started",
        )
    check_confirmed_start_date(start_date, today=today)
    if start_date == locked.start_date:
        raise DomainError(_("現在の利用開始日と同じ日付です。"), field="start_date", code="unchanged")
    old = locked.start_date
    locked.start_date = start_date
    locked.save(update_fields=["start_date", "updated_at"])
    NaccsUserId.objects.filter(issued_by=locked).update(start_date=start_date)
    ProgressNotice.objects.create(
        application=locked,
        text=start_date_notice_text(start_date, with_year=True),
        posted_by=actor,
        is_automatic=True,
        posted_at=clock.now(),
    )
    audit.record(
        locked,
        actor=actor,
        action="application_start_date_change",
        changes={"start_date": [old, start_date]},
        reason=reason,
    )
    email_application_start_date_changed_queue(
        application_id=locked.pk,
        to=locked.applicant_email,
        context=application_email_context(
            locked, old_start_date=dates.format_date(old, language=settings.LANGUAGE_CODE)
        ),
    )
    return locked


@transaction.atomic
def internal_note_add(*, application: Application, actor: User, text: str) -> InternalNote:
    """メモを追加: staff-only text on the application (never shown to the customer), audited."""
    _require(actor, PERM_REVIEW)
    text = _required_text(text, field="note", message=_("メモを入力してください。"))
    note = InternalNote.objects.create(
        application=application, author=actor, text=text, created_at=clock.now()
    )
    audit.record(application, actor=actor, action="internal_note_add", note=text)
    return note


@transaction.atomic
def application_reject(
    *, application: Application, actor: User, reason: str, seen_status: str | None = None
) -> Application:
    """不受理: the reason is shown to the customer and sent in 不受理のお知らせ."""
    _require(actor, PERM_REVIEW)
    reason = _required_text(reason, field="reason", message=_("不受理の理由を入力してください。"))
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
        application_id=locked.pk,
        to=locked.applicant_email,
        context=application_email_context(locked, reason=reason),
    )
    return locked


@transaction.atomic
def progress_notice_post(*, application: Application, actor: User, text: str) -> ProgressNotice:
    """A free-text 進行状況 notice the customer reads on 詳細."""
    _require(actor, PERM_REVIEW)
    text = _required_text(text, field="text", message=_("通知内容を入力してください。"))
    locked = _locked(application.pk)
    refusal = progress_notice_refusal(locked)
    if refusal:
        raise refusal
    notice = ProgressNotice.objects.create(
        application=locked, text=text, posted_by=actor, posted_at=clock.now()
    )
    audit.record(locked, actor=actor, action="progress_notice_post", text=text)
    return notice


@transaction.atomic
def application_email_resend(*, application: Application, email_id: int, actor: User) -> Email | None:
    """再送 of one of this application's e-mails, and its audit entry, in one transaction. None, with nothing
    changed and nothing audited, while the e-mail is being sent (it settles by itself)."""
    _require(actor, PERM_REVIEW)
    email = Email.objects.get(pk=email_id, topic="application", topic_id=application.pk)
    queued = email_resend(email_id=email.pk)
    if queued is not None:
        audit.record(
            application, actor=actor, action="email_resend", email=email.kind, to=email.to, queued=queued.pk
        )
    return queued


# Staff accounts (SPEC §1: the approver manages staff accounts; §10: nobody holds another person's credentials) ---
#
# Creating or resetting an account never produces a credential anyone but the staff member sees: the account gets
# an unusable password and no authenticator, and a single-use enrolment link (applications/enrolment.py) goes to
# the staff member's own address. Opening it shows them a new TOTP secret; they set their own password and confirm
# the authenticator with one code. Stopping or resetting an account raises its session epoch, ending its sessions.

STAFF_ENROLMENT = EnrolmentPurpose.STAFF_ENROLMENT


@dataclass(frozen=True)
class EnrolmentLinkSent:
    """What the approver is told after a create or reset: where the link went and until when, never the link."""

    account: User
    email: str
    expires_at: datetime.datetime


@dataclass(frozen=True)
class StaffEnrolment:
    """What the enrolment screen shows its holder: the new authenticator's secret (theirs alone) and the link's
    expiry."""

    account: User
    device: TOTPDevice
    expires_at: datetime.datetime

    @property
    def secret(self) -> str:
        return base64.b32encode(self.device.bin_key).decode()

    @property
    def otpauth_uri(self) -> str:
        return self.device.config_url


# The staff account pages (reviews/accounts.py) show expiry times through this name: the format of
# applications/dates.py, in the page's language.
format_datetime_ja = dates.format_datetime


def _set_role(account: User, role: str) -> None:
    if role not in STAFF_ROLES:
        raise DomainError(_("役割を選択してください。"), field="role", code="role")
    account.groups.set(Group.objects.filter(name=role))


def _require_fresh(actor: User, permission: str) -> None:
    """`_require` on the actor as the database has it now (under the caller's locks), not as the request loaded
    it: an approver stopped a moment ago by someone else can no longer act."""
    _require(User.objects.get(pk=actor.pk), permission)


def _login_capable_approvers():
    """Active approvers who can log in: a usable password and a confirmed authenticator."""
    return selectors.staff_accounts().filter(is_active=True, groups__name=APPROVER, enrolled=True).distinct()


def _lock_approver_changes() -> None:
    """Serialise every change that can take away an approver on one row, the approver group's: two approvers
    stopping (or demoting) each other at once are checked one after the other, so they cannot both succeed."""
    Group.objects.select_for_update(no_key=True).filter(name=APPROVER).first()


def _staff_email_taken(email: str) -> bool:
    return User.objects.filter(is_staff=True, email__iexact=email).exists()


def _enrolment_link_send(account: User, *, actor: User, reset: bool) -> EnrolmentLinkSent:
    """A new single-use link, e-mailed through the outbox to the account's own address. The raw token exists only
    in this function and in the e-mail."""
    token = enrolment.link_email_send(
        user=account,
        purpose=STAFF_ENROLMENT,
        created_by=actor,
        lifetime=datetime.timedelta(hours=settings.NSS_STAFF_ENROLMENT_HOURS),
        kind="staff_enrolment",
        topic="staff_account",
        link_url="reviews:enrol",
        login_url="reviews:login",
        context={
            "hours": settings.NSS_STAFF_ENROLMENT_HOURS,
            "requested_by": actor.full_name or actor.username,
            "reset": reset,
        },
    )
    return EnrolmentLinkSent(account=account, email=account.email, expires_at=token.expires_at)


def _credentials_revoke(account: User) -> None:
    """The old password and authenticator stop working now, and every session of the account ends."""
    account.set_unusable_password()
    account.session_epoch += 1
    account.save(update_fields=["password", "session_epoch"])
    TOTPDevice.objects.filter(user=account).delete()


@transaction.atomic
def _check_staff_email_domain(email: str) -> None:
    """With NSS_STAFF_EMAIL_DOMAINS set, a staff address must be in one of the centre's own mail domains."""
    allowed = settings.NSS_STAFF_EMAIL_DOMAINS
    domain = email.rpartition("@")[2].lower()
    if allowed and domain not in allowed:
        raise DomainError(
            _("スタッフのメールアドレスは、NACCSセンターのドメイン（%(domains)s）のアドレスにしてください。")
            % {"domains": "、".join(allowed)},
            field="email",
            code="email_domain",
        )


def staff_account_create(
    *, actor: User, username: str, full_name: str, email: str, role: str
) -> EnrolmentLinkSent:
    """A new NACCS centre staff account that can do nothing until its owner enrols through the link e-mailed to
    `email` (SPEC §10). The address must be no other staff account's, so it cannot be the approver's own."""
    _require(actor, PERM_MANAGE_STAFF)
    email = User.objects.normalize_email((email or "").strip())
    if not email:
        raise DomainError(_("メールアドレスを入力してください。"), field="email", code="email_required")
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(_("このユーザーIDは既に使われています。"), field="username", code="username_taken")
    _check_staff_email_domain(email)
    if _staff_email_taken(email):
        raise DomainError(
            _(
                "このメールアドレスは別のスタッフアカウントで使われています。本人のメールアドレスを入力してください。"
            ),
            field="email",
            code="email_taken",
        )
    account = User(
        username=username, full_name=full_name, email=email, is_staff=True, contract=None, is_active=True
    )
    account.set_unusable_password()
    try:
        with transaction.atomic():  # a savepoint: the unique constraints settle a race with another create
            account.save()
    except IntegrityError as error:
        raise DomainError(
            _("このユーザーIDまたはメールアドレスは既に使われています。"), field="username", code="taken"
        ) from error
    _set_role(account, role)
    sent = _enrolment_link_send(account, actor=actor, reset=False)
    audit.record(
        account,
        actor=actor,
        action="staff_account_create",
        role=role,
        email=email,
        enrolment_link_expires_at=sent.expires_at,
    )
    return sent


@transaction.atomic
def staff_account_update(*, actor: User, account: User, role: str, is_active: bool) -> User:
    """Change a staff member's role, or stop / resume the account. Nobody stops their own account; the last
    active approver who can log in is neither stopped nor demoted. Stopping ends the account's sessions and voids
    its open enrolment link; resuming revives neither."""
    _require(actor, PERM_MANAGE_STAFF)
    _lock_approver_changes()
    _require_fresh(actor, PERM_MANAGE_STAFF)
    locked = User.objects.select_for_update(no_key=True).get(pk=account.pk, is_staff=True)
    if locked.pk == actor.pk and not is_active:
        raise DomainError(_("自分のアカウントは停止できません。"), field="is_active", code="self_deactivate")
    old_role = role_of(locked)
    old_active = locked.is_active
    removes_an_approver = old_role == APPROVER and old_active and (role != APPROVER or not is_active)
    if removes_an_approver and not _login_capable_approvers().exclude(pk=locked.pk).exists():
        raise DomainError(
            _(
                "利用できる承認者がほかにいないため、このアカウントを停止または審査担当者に変更できません。先に別の承認者を登録してください。"
            ),
            field="is_active" if not is_active else "role",
            code="last_approver",
        )
    _set_role(locked, role)
    locked.is_active = is_active
    if old_active and not is_active:
        locked.session_epoch += 1
        enrolment.token_void_open(user=locked)
    locked.save(update_fields=["is_active", "session_epoch"])
    audit.record(
        locked,
        actor=actor,
        action="staff_account_update",
        changes={"role": [old_role, role], "is_active": [old_active, is_active]},
    )
    return locked


@transaction.atomic
def staff_credentials_reset(*, actor: User, account: User) -> EnrolmentLinkSent:
    """A lost phone or a forgotten password: the old password and authenticator stop working at once, the
    account's sessions end, and a new enrolment link goes to the staff member's own address."""
    _require(actor, PERM_MANAGE_STAFF)
    locked = User.objects.select_for_update(no_key=True).get(pk=account.pk, is_staff=True)
    if not locked.is_active:
        raise DomainError(
            _("停止中のアカウントには登録用リンクを送れません。先に利用可に戻してください。"),
            code="inactive",
        )
    if not locked.email:
        raise DomainError(
            _("このアカウントにはメールアドレスが登録されていないため、登録用リンクを送れません。"),
            code="no_email",
        )
    _credentials_revoke(locked)
    sent = _enrolment_link_send(locked, actor=actor, reset=True)
    audit.record(
        locked,
        actor=actor,
        action="staff_credentials_reset",
        email=locked.email,
        enrolment_link_expires_at=sent.expires_at,
    )
    return sent


def _enrolment_device_name(token: EnrolmentToken) -> str:
    return f"enrolment-{token.pk}"


def _locked_staff_token(raw_token: str) -> EnrolmentToken:
    token = enrolment.token_lock_valid(raw_token=raw_token, purpose=STAFF_ENROLMENT)
    if token is None or not token.user.is_staff:
        raise enrolment.EnrolmentTokenInvalid()
    return token


@transaction.atomic
def staff_enrolment_start(*, raw_token: str) -> StaffEnrolment:
    """Opening the enrolment link: the first time, a new TOTP device (unconfirmed, so it cannot log in yet) is
    made for this link; reloading the page shows the same secret. Raises EnrolmentTokenInvalid for a link that is
    unknown, used, voided or expired."""
    token = _locked_staff_token(raw_token)
    device = authenticators.authenticator_pending(user=token.user, name=_enrolment_device_name(token))
    return StaffEnrolment(account=token.user, device=device, expires_at=token.expires_at)


@transaction.atomic
def staff_enrolment_complete(*, raw_token: str, password: str, otp_token: str) -> User:
    """The staff member sets their own password (Django's validators) and confirms their authenticator with one
    current code; the link is used up in the same transaction. A weak password or a wrong code changes nothing."""
    token = _locked_staff_token(raw_token)
    account = User.objects.select_for_update(no_key=True).get(pk=token.user_id)
    own_password_validate(password, account)
    authenticators.authenticator_confirm(
        user=account, name=_enrolment_device_name(token), otp_token=otp_token
    )
    account.set_password(password)
    account.save(update_fields=["password"])
    enrolment.token_consume(token=token)
    audit.record(account, actor=account, action="staff_enrolment_complete")
    return account


# Contracts (SPEC §11: the centre registers offices itself; the import does the same in bulk) ----------------------

CONTRACT_FIELDS = ("company_name", "office_name", "department", "address")


def _contract_check(*, company_name: str, office_name: str, processing_methods) -> None:
    if not company_name.strip():
        raise DomainError(_("会社名を入力してください。"), field="company_name", code="required")
    if not office_name.strip():
        raise DomainError(_("事業所名を入力してください。"), field="office_name", code="required")
    if not list(processing_methods):
        raise DomainError(
            _("処理方式を1つ以上選んでください。"), field="processing_methods", code="no_processing_method"
        )


@transaction.atomic
def contract_create(
    *,
    actor: User,
    user_code: str,
    company_name: str,
    office_name: str,
    department: str = "",
    address: str = "",
    processing_methods,
    customer_totp_required: bool = False,
) -> Contract:
    """契約を登録する: a new office with its 利用者コード (unique, never changed afterwards: it is the first five
    characters of every 利用者ID of the office). Audited."""
    _require(actor, PERM_MANAGE_CONTRACTS)
    code = user_code_clean(user_code)
    _contract_check(company_name=company_name, office_name=office_name, processing_methods=processing_methods)
    if Contract.objects.filter(user_code=code).exists():
        raise DomainError(
            _("利用者コード %(code)s の契約はすでに登録されています。") % {"code": code},
            field="user_code",
            code="user_code_taken",
        )
    try:
        with transaction.atomic():
            contract = Contract.objects.create(
                user_code=code,
                company_name=company_name.strip(),
                office_name=office_name.strip(),
                department=department.strip(),
                address=address.strip(),
                customer_totp_required=customer_totp_required,
            )
    except IntegrityError as error:  # registered at the same moment by someone else
        raise DomainError(
            _("利用者コード %(code)s の契約はすでに登録されています。") % {"code": code},
            field="user_code",
            code="user_code_taken",
        ) from error
    contract.processing_methods.set(processing_methods)
    audit.record(
        contract,
        actor=actor,
        action="contract_create",
        user_code=code,
        processing_methods=sorted(method.code for method in processing_methods),
    )
    return contract


@transaction.atomic
def contract_update(
    *,
    actor: User,
    contract: Contract,
    company_name: str,
    office_name: str,
    department: str = "",
    address: str = "",
    processing_methods,
    customer_totp_required: bool = False,
) -> Contract:
    """契約を変更する: names, department, address and processing methods; the change is audited field by field.
    Nothing changed → nothing written."""
    _require(actor, PERM_MANAGE_CONTRACTS)
    _contract_check(company_name=company_name, office_name=office_name, processing_methods=processing_methods)
    locked = Contract.objects.select_for_update(no_key=True).get(pk=contract.pk)
    new = {
        "company_name": company_name.strip(),
        "office_name": office_name.strip(),
        "department": department.strip(),
        "address": address.strip(),
        "customer_totp_required": customer_totp_required,
    }
    changes = {
        name: [getattr(locked, name), value] for name, value in new.items() if getattr(locked, name) != value
    }
    old_methods = sorted(locked.processing_methods.values_list("code", flat=True))
    new_methods = sorted(method.code for method in processing_methods)
    if old_methods != new_methods:
        changes["processing_methods"] = [old_methods, new_methods]
    if not changes:
        return locked
    for name, value in new.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(new))
    locked.processing_methods.set(processing_methods)
    audit.record(locked, actor=actor, action="contract_update", changes=changes)
    return locked


def contract_file_import(*, actor: User, file, dry_run: bool) -> ImportReport:
    """契約の一括登録 from the upload screen: the import of `manage.py import_contracts`, by this staff member (its
    audit entries name them). A report, never an exception, for any file."""
    _require(actor, PERM_MANAGE_CONTRACTS)
    return contracts_import(file=file, dry_run=dry_run, actor=actor)
