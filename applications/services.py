"""Every action that changes an application (SPEC §3). One function per business action, each in its own
transaction, locking the application row before it checks anything."""

import datetime
import logging
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from notifications.services import (
    email_application_received_queue,
    email_application_withdrawn_queue,
    email_queue,
)

from . import audit, business_calendar, clock, dates, kinds, roles, rules, workflow
from .email_context import application_email_context
from .exceptions import DomainError
from .models import (
    Application,
    ApplicationItem,
    ApplicationKind,
    ApplicationStatus,
    NaccsUserId,
    ProcessingMethod,
    ReceptionNumberAllocation,
    User,
)
from .reception_numbers import reception_number_from_sequence

logger = logging.getLogger(__name__)


def _locked_draft(application_id: int, *, kind: str | None = None) -> Application:
    """The draft, locked for this transaction; a submitted one can no longer be edited, a deleted one (discarded
    in another tab, or expired) is gone. With `kind`, a draft of another kind is refused (its own screens only)."""
    try:
        application = (
            Application.objects.select_for_update(of=("self",), no_key=True)
            .select_related("contract")
            .get(pk=application_id)
        )
    except Application.DoesNotExist:
        raise DomainError(_("この下書きは削除されています。"), code="draft_deleted") from None
    if application.status != ApplicationStatus.DRAFT:
        raise workflow.IllegalTransition(
            _("この申込は既に登録されています（申込受付番号 %(number)s）。")
            % {"number": application.reception_number},
            code="already_submitted",
        )
    if kind is not None and application.kind != kind:
        raise DomainError(_("この下書きでは行えない操作です。"), code="wrong_kind")
    return application


def application_draft_start(*, user: User, kind: str = ApplicationKind.ADD_CUSTOMS_BROKER_IDS) -> Application:
    """Resume the account's draft of this kind, or start one prefilled from the account (申込担当者)."""
    if not user.is_customer:
        raise DomainError(_("お客様のアカウントでログインしてください。"), code="not_customer")
    existing = Application.objects.filter(created_by=user, kind=kind, status=ApplicationStatus.DRAFT).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Application.objects.create(
                contract=user.contract,
                kind=kind,
                created_by=user,
                applicant_name=user.full_name or user.get_full_name(),
                applicant_department=user.department,
                applicant_phone=user.phone,
                applicant_email=user.email,
            )
    except IntegrityError:
        # Two tabs started at once: the unique "one draft per account and kind" constraint kept one.
        return Application.objects.get(created_by=user, kind=kind, status=ApplicationStatus.DRAFT)


@transaction.atomic
def application_applicant_set(
    *, application: Application, name: str, department: str, phone: str, email: str
) -> Application:
    """申込担当者 (screen 4)."""
    draft = _locked_draft(application.pk)
    draft.applicant_name = name
    draft.applicant_department = department
    draft.applicant_phone = phone
    draft.applicant_email = email
    draft.save(
        update_fields=[
            "applicant_name",
            "applicant_department",
            "applicant_phone",
            "applicant_email",
            "updated_at",
        ]
    )
    return draft


@transaction.atomic
def application_item_add(
    *,
    application: Application,
    desired_start_date: datetime.date,
    processing_method: ProcessingMethod,
    desired_identifier: str,
    broker_name: str,
) -> ApplicationItem:
    """設定する (screen 5): keep the desired start date and add one ID to 申込情報."""
    draft = _locked_draft(application.pk, kind=ApplicationKind.ADD_CUSTOMS_BROKER_IDS)
    identifier = rules.normalise_identifier(desired_identifier)
    name = rules.normalise_broker_name(broker_name)
    rules.check_desired_start_date(desired_start_date, today=clock.today())
    rules.check_processing_method(draft.contract, processing_method)
    rules.check_desired_identifier(draft.contract, draft, identifier)
    rules.check_broker_name(draft, processing_method, name)
    rules.check_item_count(draft.items.count(), adding=True)
    draft.desired_start_date = desired_start_date
    draft.save(update_fields=["desired_start_date", "updated_at"])
    return ApplicationItem.objects.create(
        application=draft,
        processing_method=processing_method,
        desired_identifier=identifier,
        broker_name=name,
    )


@transaction.atomic
def application_item_remove(*, application: Application, item_id: int) -> ApplicationItem | None:
    """Remove one ID from 申込情報 (screen 5) and return it (with its processing method), so the screen can say
    what was removed. An id that is not this draft's is a no-op (None), never another's row."""
    draft = _locked_draft(application.pk)
    item = (
        ApplicationItem.objects.select_related("processing_method")
        .filter(application=draft, pk=item_id)
        .first()
    )
    if item is not None:
        item.delete()
        draft.save(update_fields=["updated_at"])  # a change of the draft: its expiry starts again
    return item


@transaction.atomic
def application_desired_start_date_set(
    *, application: Application, desired_start_date: datetime.date
) -> Application:
    """申込内容確認へ進む (screen 5): the date is valid and at least one ID is set."""
    draft = _locked_draft(application.pk, kind=ApplicationKind.ADD_CUSTOMS_BROKER_IDS)
    rules.check_desired_start_date(desired_start_date, today=clock.today())
    rules.check_item_count(draft.items.count(), adding=False)
    draft.desired_start_date = desired_start_date
    draft.save(update_fields=["desired_start_date", "updated_at"])
    return draft


@transaction.atomic
def application_targets_set(
    *, application: Application, target_ids: list[int], desired_end_date: datetime.date | None = None
) -> Application:
    """申込内容確認へ進む of `select-ids` (通関士IDの削除, パスワードの初期化; SPEC §9): the chosen IDs become the
    draft's items, each naming its ID, and a removal's 利用終了希望日 is kept. Every chosen ID must be selectable
    (`kinds.check_targets`); submission checks it again under the IDs' row locks."""
    draft = _locked_draft(application.pk)
    kind = kinds.kind_of(draft)
    if not kind.chooses_targets:
        raise DomainError(_("この下書きでは行えない操作です。"), code="wrong_kind")
    if kind.desired_date_field:
        kind.check_desired_date(desired_end_date, today=clock.today())
    targets = kinds.check_targets(draft.kind, contract_id=draft.contract_id, target_ids=target_ids)
    draft.items.all().delete()
    used = set()
    for target in targets:
        # The (method, name) pair is unique in an application; an ID without a distinct name is named by itself.
        name = target.broker_name
        if not name or (target.processing_method_id, name) in used:
            name = target.naccs_user_id
        used.add((target.processing_method_id, name))
        ApplicationItem.objects.create(
            application=draft, processing_method=target.processing_method, broker_name=name, target=target
        )
    fields = ["updated_at"]
    if kind.desired_date_field:
        setattr(draft, kind.desired_date_field, desired_end_date)
        fields.append(kind.desired_date_field)
    draft.save(update_fields=fields)
    return draft


def _allocate_reception_number() -> str:
    allocation = ReceptionNumberAllocation.objects.create()
    return reception_number_from_sequence(allocation.pk)


def application_submit(*, application: Application) -> Application:
    """申込内容を登録する (screen 6).

    In one transaction: lock the draft, check every rule again as of now (the draft may be days old), allocate the
    reception number, set 受付 and queue the receipt e-mail. A second submission of the same draft (double click,
    two tabs, a replayed POST) finds it no longer a draft and files nothing: the caller shows the first result.
    """
    with transaction.atomic():
        draft = _locked_draft(application.pk)
        _check_complete(draft)
        workflow.transition(draft, ApplicationStatus.SUBMITTED)
        draft.reception_number = _allocate_reception_number()
        draft.submitted_at = clock.now()
        draft.answer_due_on = business_calendar.next_business_day(draft.submitted_at.date())
        draft.save(
            update_fields=["status", "reception_number", "submitted_at", "answer_due_on", "updated_at"]
        )
        audit.record(
            draft,
            actor=draft.created_by,
            action="application_submit",
            changes={"status": ["draft", "submitted"]},
        )
        items = list(draft.items.select_related("processing_method", "target"))
        email_application_received_queue(
            application_id=draft.pk,
            to=draft.applicant_email,
            context=application_email_context(draft, items=items),
        )
    return draft


def _check_complete(draft: Application) -> None:
    if not (draft.applicant_name and draft.applicant_email and draft.applicant_phone):
        raise DomainError(
            _("申込担当者の氏名・電話番号・メールアドレスを入力してください。"), code="applicant_missing"
        )
    kind = kinds.kind_of(draft)
    kind.check_desired_date(kind.desired_date(draft), today=clock.today())
    items = list(draft.items.select_related("processing_method"))
    if kind.chooses_targets:
        target_ids = [item.target_id for item in items]
        # Lock the chosen IDs (in one order, so two submissions cannot deadlock): a second submission naming one
        # of them waits here until the first commits, then finds it in an open application of the kind and is
        # refused.
        list(NaccsUserId.objects.select_for_update(no_key=True).filter(pk__in=target_ids).order_by("pk"))
        kinds.check_targets(draft.kind, contract_id=draft.contract_id, target_ids=target_ids)
        return
    rules.check_item_count(len(items), adding=False)
    for item in items:
        rules.check_processing_method(draft.contract, item.processing_method)
        if item.desired_identifier:
            rules.check_identifier_free_in_contract(draft.contract, item.desired_identifier)


@transaction.atomic
def application_id_notice_viewed(*, application: Application, actor: User) -> None:
    """ID通知内容 was shown to `actor`: the page carries initial passwords, so every view of it is
    in the audit trail (who, when, which application) — SPEC §4 "every action is in an audit trail"."""
    audit.record_access(application, actor=actor, action="id_notice_view")


@transaction.atomic
def application_id_notice_downloaded(*, application: Application, actor: User) -> None:
    """ID通知内容 was given to `actor` as a PDF (「PDFで保存」): a copy of the initial passwords that leaves the
    portal, in the audit trail like every view of the screen, under its own action so the trail tells them apart."""
    audit.record_access(application, actor=actor, action="id_notice_pdf_download")


@transaction.atomic
def application_withdraw(*, application: Application, actor: User) -> Application:
    """取下げ: the customer withdraws their office's application while it is still 受付 (before a reviewer took it).
    Under the row lock, so a withdrawal racing a reviewer's 担当する leaves exactly one of them applied."""
    locked = Application.objects.select_for_update(no_key=True).get(pk=application.pk)
    if locked.contract_id != actor.contract_id:
        raise DomainError(_("この申込は取り下げできません。"), code="not_own")
    old = workflow.transition(locked, ApplicationStatus.WITHDRAWN)
    locked.save(update_fields=["status", "updated_at"])
    audit.record(locked, actor=actor, action="application_withdraw", changes={"status": [old, locked.status]})
    email_application_withdrawn_queue(
        application_id=locked.pk, to=locked.applicant_email, context=application_email_context(locked)
    )
    return locked


@transaction.atomic
def application_draft_discard(*, application: Application, actor: User) -> None:
    """キャンセル (screens 4–6, and the menu): the office's draft is deleted with the IDs set in it, after the
    customer confirmed it. Drafts are invisible to staff and nothing of them is audited (their creation and edits
    are not either), so nothing else is written. A draft submitted meanwhile (another tab) is refused with the
    message of `_locked_draft`, one already deleted likewise."""
    draft = _locked_draft(application.pk)
    if draft.contract_id != actor.contract_id:
        raise DomainError(_("この下書きは削除できません。"), code="not_own")
    draft.delete()  # its items go with it (on_delete=CASCADE), in this transaction


@dataclass(frozen=True)
class DraftExpiry:
    """What one sweep of `application_drafts_expire` did: warning e-mails queued, drafts deleted."""

    warned: int
    deleted: int


DRAFT_EXPIRY_EMAIL = "draft_expiry_warning"


def application_drafts_expire(*, now: datetime.datetime | None = None, limit: int = 500) -> DraftExpiry:
    """Drafts are not kept for ever (SPEC §3 keeps them on the server; like Open Forms and Démarches Simplifiées
    the portal ends them): a draft not changed for NSS_DRAFT_EXPIRY_DAYS days is deleted on the day after
    (`rules.draft_deletion_date`), and its creator is e-mailed NSS_DRAFT_EXPIRY_WARNING_DAYS days before.

    Run by the beat task `application_drafts_expire_task`. Deletions first, then warnings, so that no warning
    names a day already past. A draft is deleted only after its current version was warned that many days ahead,
    so a sweep that did not run for a while (or its first run) warns before it deletes. Each draft is its own
    transaction under the draft's row lock, with the conditions checked again under it: a customer who edits or
    submits the draft meanwhile wins, and two sweeps at once send one e-mail and delete once. Returns the counts.
    """
    today = clock.local_date(now or clock.now())
    deleted = 0
    due_for_deletion = Application.objects.filter(
        _draft_due_for_deletion(today), status=ApplicationStatus.DRAFT
    ).values_list("pk", flat=True)[:limit]
    for draft_id in list(due_for_deletion):
        deleted += _draft_expired_delete(draft_id, today=today)
    warned = 0
    due_for_warning = Application.objects.filter(
        _draft_due_for_warning(today), status=ApplicationStatus.DRAFT
    ).values_list("pk", flat=True)[:limit]
    for draft_id in list(due_for_warning):
        warned += _draft_expiry_warn(draft_id, today=today)
    if warned or deleted:
        logger.info("drafts: %d warned of their deletion, %d deleted", warned, deleted)
    return DraftExpiry(warned=warned, deleted=deleted)


def _draft_due_for_deletion(today: datetime.date) -> Q:
    return Q(
        updated_at__lt=rules.draft_changed_before(today),
        expiry_warned_at__gte=F("updated_at"),
        expiry_warned_at__lt=rules.draft_warned_before(today),
    )


def _draft_due_for_warning(today: datetime.date) -> Q:
    ahead = today + datetime.timedelta(days=settings.NSS_DRAFT_EXPIRY_WARNING_DAYS)
    return Q(updated_at__lt=rules.draft_changed_before(ahead)) & (
        Q(expiry_warned_at__isnull=True) | Q(expiry_warned_at__lt=F("updated_at"))
    )


def _locked_expiring_draft(draft_id: int, condition: Q) -> Application | None:
    return (
        Application.objects.select_for_update(of=("self",), no_key=True)
        .filter(condition, pk=draft_id, status=ApplicationStatus.DRAFT)
        .select_related("contract", "created_by")
        .first()
    )


@transaction.atomic
def _draft_expired_delete(draft_id: int, *, today: datetime.date) -> int:
    draft = _locked_expiring_draft(draft_id, _draft_due_for_deletion(today))
    if draft is None:
        return 0
    draft.delete()
    return 1


@transaction.atomic
def _draft_expiry_warn(draft_id: int, *, today: datetime.date) -> int:
    """The warning about one draft: marked and queued in one transaction, so it is sent once. A creator who can
    no longer log in (stopped) or has no address gets no e-mail; the draft is marked all the same, so that the
    deletion follows on its day."""
    draft = _locked_expiring_draft(draft_id, _draft_due_for_warning(today))
    if draft is None:
        return 0
    warned_at = clock.now()
    Application.objects.filter(pk=draft.pk).update(expiry_warned_at=warned_at)  # updated_at stays
    creator = draft.created_by
    if not (creator.is_active and creator.email):
        return 0
    language = settings.LANGUAGE_CODE
    deletion_date = rules.draft_deletion_date(last_changed=draft.updated_at, warned_at=warned_at)
    email_queue(
        kind=DRAFT_EXPIRY_EMAIL,
        to=creator.email,
        topic="draft",
        topic_id=draft.pk,
        context={
            "company_name": draft.contract.company_name,
            "office_name": draft.contract.office_name,
            "full_name": creator.full_name or creator.username,
            "kind": draft.get_kind_display(),
            "item_count": draft.items.count(),
            "last_changed": dates.format_date(draft.updated_at, language=language),
            "deletion_date": dates.format_date(deletion_date, language=language),
            "expiry_days": settings.NSS_DRAFT_EXPIRY_DAYS,
            "login_url": f"{settings.NSS_BASE_URL.rstrip('/')}{reverse('login')}",
        },
    )
    return 1


def initial_passwords_destroy(*, now: datetime.datetime | None = None) -> int:
    """SPEC §10: the ciphertext of an initial password is destroyed once the ID's password has been changed, or
    after NSS_INITIAL_PASSWORD_RETENTION_DAYS from its issue (the ID's creation, or the パスワードの初期化 that made
    it) at the latest (beat task `initial_passwords_destroy_task`). The UTB password change destroys it at once;
    this catches the rest. One UPDATE; returns how many were destroyed."""
    now = now or clock.now()
    oldest_kept = now - datetime.timedelta(days=settings.NSS_INITIAL_PASSWORD_RETENTION_DAYS)
    destroyed = (
        NaccsUserId.objects.exclude(initial_password_encrypted="")
        .filter(
            Q(password_changed_at__isnull=False)
            | Q(password_issued_at__lte=oldest_kept)
            # Not known when it was made: it is not kept.
            | Q(password_issued_at__isnull=True)
        )
        .update(initial_password_encrypted="")
    )
    if destroyed:
        logger.info("initial passwords destroyed: %d", destroyed)
    return destroyed


def staff_role_group_ensure(*, role: str) -> Group:
    """The group of a staff role with the permissions roles.STAFF_ROLES gives it. Migrations 0004 and 0007 made
    the groups; the demo data and the test factories call this to make them again where they are missing (an
    emptied table, a flushed test database), and a missing permission row is made with its declared name."""
    group, _created = Group.objects.get_or_create(name=role)
    for codename in roles.STAFF_ROLES[role]:
        permission = Permission.objects.filter(
            content_type__app_label="applications", codename=codename
        ).first()
        if permission is None:
            model, name = roles.PERMISSIONS[codename]
            content_type = ContentType.objects.get_for_model(apps.get_model("applications", model))
            permission = Permission.objects.create(content_type=content_type, codename=codename, name=name)
        group.permissions.add(permission)
    return group
