"""The reads that the customer screens need. Every query is scoped to the customer's contract (tenancy):
another office's object is simply not found, which the views turn into a 404."""

import datetime
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from . import clock, crypto, kinds, passwords, rules
from .models import (
    Application,
    ApplicationItem,
    ApplicationStatus,
    Contract,
    NaccsUserId,
    ProgressNotice,
    User,
)


def contract_for_display(*, contract: Contract) -> Contract:
    """The contract as the 契約情報 block shows it: `contract` (already loaded with the account or the draft)
    with its processing methods, one query."""
    prefetch_related_objects([contract], "processing_methods")
    return contract


def application_items(*, application: Application) -> list[ApplicationItem]:
    return list(application.items.select_related("processing_method", "target").order_by("id"))


def _issued_ids_queryset() -> QuerySet[NaccsUserId]:
    return NaccsUserId.objects.select_related("contract", "processing_method").order_by("identifier")


def application_get(*, user: User, application_id: int) -> Application:
    """A submitted application of the customer's own office, or 404.

    What 申込詳細 shows of it — the IDs asked, the 進行状況 notices newest first, the issued IDs — is
    prefetched, so the page's query count does not grow with the number of rows; of the 利用者IDs it names, their
    credentials are not read."""
    return get_object_or_404(
        Application.objects.select_related("contract").prefetch_related(
            Prefetch(
                "items",
                queryset=ApplicationItem.objects.select_related("processing_method", "target")
                .defer(*(f"target__{column}" for column in NaccsUserId.CREDENTIAL_FIELDS))
                .order_by("id"),
            ),
            Prefetch("notices", queryset=ProgressNotice.objects.order_by("-posted_at", "-id")),
            Prefetch("issued_ids", queryset=_issued_ids_queryset().defer(*NaccsUserId.CREDENTIAL_FIELDS)),
        ),
        pk=application_id,
        contract_id=user.contract_id,
        status__in=[s for s in ApplicationStatus.values if s != ApplicationStatus.DRAFT],
    )


# What a row of 申込状況一覧 shows (templates/jinja2/applications/application_rows.html), and no more: with the id
# and the ID count, 10 of the application's columns are read.
LIST_FIELDS = (
    "reception_number",
    "kind",
    "status",
    "submitted_at",
    "desired_start_date",
    "start_date",
    "desired_end_date",
    "end_date",
)


def _item_count() -> Coalesce:
    """How many IDs an application asks for, as a correlated subquery."""
    items = (
        ApplicationItem.objects.filter(application=OuterRef("pk"))
        .order_by()
        .values("application")
        .annotate(count=Count("*"))
        .values("count")
    )
    return Coalesce(Subquery(items), 0)


def application_list(*, user: User) -> QuerySet[Application]:
    """申込状況一覧: the office's applications (drafts excluded), newest first, with the number of IDs
    asked."""
    return (
        Application.objects.filter(contract_id=user.contract_id)
        .exclude(status=ApplicationStatus.DRAFT)
        # A subquery, not a join with GROUP BY: the paginator's COUNT then leaves it out and counts the office's
        # applications alone.
        .annotate(item_count=_item_count())
        .only(*LIST_FIELDS)
        .order_by("-submitted_at", "-id")
    )


def application_drafts_of(*, user: User) -> list[Application]:
    """The account's own drafts (at most one per kind), in the menu's order of kinds, so that the menu can offer
    to continue or discard each, with `deletion_date`: the day it will be deleted unless it is changed before
    (`rules.draft_deletion_date`)."""
    order = list(kinds.KINDS)
    drafts = sorted(
        # Unordered in SQL (sorted here): the model's ordering costs a fifth of the query's CPU time to compile.
        Application.objects.filter(created_by=user, status=ApplicationStatus.DRAFT).order_by(),
        key=lambda draft: order.index(draft.kind),
    )
    for draft in drafts:
        draft.deletion_date = rules.draft_deletion_date(
            last_changed=draft.updated_at, warned_at=draft.expiry_warned_at
        )
    return drafts


@dataclass(frozen=True)
class IssuedIdNotice:
    """One line of ID通知内容: a 利用者ID the application issued (通関士IDの追加) or whose password it reset
    (パスワードの初期化), with its initial password in clear text.

    `initial_password` is None when it is not shown: `password_changed` (the ID's password was changed, so the
    initial one is gone), `reset_later` (a later パスワードの初期化 replaced it: that application's notice has the
    current one), `retention_over` (kept only NSS_INITIAL_PASSWORD_RETENTION_DAYS), or none of these (no stored
    value, or a key that has been rotated away); the page says which instead of failing.
    """

    naccs_user_id: str
    user_code: str
    identifier: str
    processing_method: str
    broker_name: str
    start_date: datetime.date | None
    initial_password: str | None
    password_changed: bool
    reset_later: bool
    retention_over: bool
    revoked: bool


@dataclass(frozen=True)
class IdNotice:
    """ID通知内容 as produced at `produced_at` (発行日時, Japan time): the instant the password rules were read at,
    so the date printed on the notice is the one its 「変更済み」 and passwords are true for."""

    application: Application
    issued_ids: list[IssuedIdNotice]
    produced_at: datetime.datetime

    @property
    def any_reset_later(self) -> bool:
        return any(line.reset_later for line in self.issued_ids)


def _id_notice_line(naccs_id: NaccsUserId, application: Application, *, now) -> IssuedIdNotice:
    """The password rules of SPEC §10 for one ID of this application's notice: its initial password is shown only
    by the application that made the current one, until it is changed and within the retention period."""
    own = naccs_id.password_issued_by_id == application.pk
    issued_at = naccs_id.password_issued_at or naccs_id.created_at
    retention_over = now >= passwords.initial_password_retention_ends(issued_at)
    shown = None
    if (
        own
        and naccs_id.initial_password_encrypted
        and passwords.initial_password_showable(
            issued_at=issued_at, password_changed_at=naccs_id.password_changed_at, now=now
        )
    ):
        try:
            shown = crypto.decrypt(naccs_id.initial_password_encrypted)
        except InvalidToken:
            shown = None
    return IssuedIdNotice(
        naccs_user_id=naccs_id.naccs_user_id,
        user_code=naccs_id.contract.user_code,
        identifier=naccs_id.identifier,
        processing_method=naccs_id.processing_method.label,
        broker_name=naccs_id.broker_name,
        start_date=naccs_id.start_date,
        initial_password=shown,
        password_changed=own and naccs_id.password_changed_at is not None,
        reset_later=not own and naccs_id.password_issued_by_id is not None,
        retention_over=own and retention_over,
        revoked=naccs_id.revoked_at is not None,
    )


def id_notice_get(*, user: User, application_id: int) -> IdNotice:
    """ID通知内容 (screen 10): an approved (審査終了) application of the customer's own office that made initial
    passwords — the 利用者IDs an addition issued, or those a パスワードの初期化 reset — with the passwords
    decrypted. Anything else — another office's, a draft, one not yet approved, a removal — is a 404, so the page
    never confirms that it exists (SPEC §3)."""
    application = get_object_or_404(
        Application.objects.select_related("contract"),
        pk=application_id,
        contract_id=user.contract_id,
        status=ApplicationStatus.APPROVED,
        kind__in=[kind.value for kind in kinds.KINDS.values() if kind.has_id_notice],
    )
    now = clock.now()
    if kinds.kind_of(application).chooses_targets:
        naccs_ids = list(
            _issued_ids_queryset().filter(pk__in=application.items.values("target_id")).order_by("identifier")
        )
    else:
        naccs_ids = list(_issued_ids_queryset().filter(issued_by=application))
    issued = [_id_notice_line(naccs_id, application, now=now) for naccs_id in naccs_ids]
    return IdNotice(application=application, issued_ids=issued, produced_at=now)


# The office's customer accounts (SPEC §11) ------------------------------------------------------------------------


def office_accounts(*, contract_id: int) -> list[User]:
    """The customer accounts of one office by ユーザーID, each with `invitation_pending`: invited, and the person has
    not set a password yet."""
    accounts = list(User.objects.filter(contract_id=contract_id, is_staff=False).order_by("username"))
    for account in accounts:
        account.invitation_pending = not account.has_usable_password()
    return accounts


def office_account_get(*, contract_id: int, account_id: int) -> User:
    """A customer account of this office, or 404 (an account of another office is not even confirmed to exist)."""
    return get_object_or_404(
        User.objects.select_related("contract"), pk=account_id, contract_id=contract_id, is_staff=False
    )
