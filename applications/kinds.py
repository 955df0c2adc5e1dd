"""The kinds of 利用申込 (SPEC §9) and everything in which they differ, in one place.

The shared steps — the draft, 申込担当者, 申込内容確認, submission with its reception number and receipt e-mail, the
staff queue, take / release / reject, the audit trail — are one code path each and read the kind from here: its
labels, its selection step (add-ids or select-ids), the date the customer chooses (none for a password reset), the
check of the selection at submission and what approval does (`approval`: "issue" new IDs, "revoke" the chosen ones
on the 利用終了日, or "reset" the chosen ones' passwords at once).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from . import rules
from .exceptions import DomainError
from .models import OPEN_STATUSES, Application, ApplicationItem, ApplicationKind, NaccsUserId

ISSUE = "issue"
REVOKE = "revoke"
RESET = "reset"


@dataclass(frozen=True)
class Kind:
    value: str
    menu_label: Promise
    guidance_button: Promise
    guidance_title: Promise
    guidance_url_name: str
    # The selection step: its URL name (= data-screen) and the confirm screen's way back to it.
    selection_screen: str
    selection_back_label: Promise
    # The date the customer chooses: the application's field (one of models.DESIRED_DATE_FIELDS, or None for a
    # kind that asks for no date) and its label.
    desired_date_field: str | None
    desired_date_label: Promise | None
    # The date approval fixes (利用開始日 / 利用終了日), as staff are asked for it (None: approval takes effect at once).
    confirmed_date_label: Promise | None
    approval: str
    # The application's field that holds the date approval fixed (None: the kind fixes no date).
    confirmed_date_field: str | None = None
    # select-ids: what the chosen existing IDs are (the checkboxes' legend, the tables' caption).
    targets_label: Promise | None = None

    @property
    def label(self) -> str:
        return ApplicationKind(self.value).label

    @property
    def chooses_targets(self) -> bool:
        """The customer chooses existing IDs of the contract (select-ids) rather than asking for new ones."""
        return self.approval in (REVOKE, RESET)

    @property
    def has_id_notice(self) -> bool:
        """Approval makes initial passwords, so the customer reads them in ID通知内容."""
        return self.approval in (ISSUE, RESET)

    def desired_date(self, application: Application) -> datetime.date | None:
        """The date the customer asked for; None when the kind asks for none (or it is not chosen yet)."""
        return getattr(application, self.desired_date_field) if self.desired_date_field else None

    def confirmed_date(self, application: Application) -> datetime.date | None:
        """The date approval fixed (利用開始日 / 利用終了日); None before approval or when the kind fixes none."""
        return getattr(application, self.confirmed_date_field) if self.confirmed_date_field else None

    def check_desired_date(self, day: datetime.date | None, *, today: datetime.date) -> None:
        if self.desired_date_field == "desired_end_date":
            rules.check_desired_end_date(day, today=today)
        elif self.desired_date_field == "desired_start_date":
            rules.check_desired_start_date(day, today=today)


KINDS = {
    ApplicationKind.ADD_CUSTOMS_BROKER_IDS: Kind(
        value=ApplicationKind.ADD_CUSTOMS_BROKER_IDS,
        menu_label=gettext_lazy("通関士IDの追加"),
        guidance_button=gettext_lazy("通関士IDを追加する"),
        guidance_title=gettext_lazy("通関士IDガイダンス画面"),
        guidance_url_name="guidance",
        selection_screen="add-ids",
        selection_back_label=gettext_lazy("通関士用利用者IDの入力に戻る"),
        desired_date_field="desired_start_date",
        desired_date_label=gettext_lazy("利用開始希望日"),
        confirmed_date_label=gettext_lazy("利用開始日"),
        approval=ISSUE,
        confirmed_date_field="start_date",
    ),
    ApplicationKind.REMOVE_BROKER_IDS: Kind(
        value=ApplicationKind.REMOVE_BROKER_IDS,
        menu_label=gettext_lazy("通関士IDの削除"),
        guidance_button=gettext_lazy("通関士IDを削除する"),
        guidance_title=gettext_lazy("通関士ID削除ガイダンス画面"),
        guidance_url_name="guidance-remove",
        selection_screen="select-ids",
        selection_back_label=gettext_lazy("対象IDの選択に戻る"),
        desired_date_field="desired_end_date",
        desired_date_label=gettext_lazy("利用終了希望日"),
        confirmed_date_label=gettext_lazy("利用終了日"),
        approval=REVOKE,
        confirmed_date_field="end_date",
        targets_label=gettext_lazy("削除する通関士ID"),
    ),
    ApplicationKind.RESET_PASSWORDS: Kind(
        value=ApplicationKind.RESET_PASSWORDS,
        menu_label=gettext_lazy("パスワードの初期化"),
        guidance_button=gettext_lazy("パスワードを初期化する"),
        guidance_title=gettext_lazy("パスワード初期化ガイダンス画面"),
        guidance_url_name="guidance-reset",
        selection_screen="select-ids",
        selection_back_label=gettext_lazy("対象IDの選択に戻る"),
        desired_date_field=None,
        desired_date_label=None,
        confirmed_date_label=None,
        approval=RESET,
        targets_label=gettext_lazy("パスワードを初期化する利用者ID"),
    ),
}


def kind_of(application_or_value) -> Kind:
    value = getattr(application_or_value, "kind", application_or_value)
    return KINDS[ApplicationKind(value)]


# select-ids (通関士IDの削除, パスワードの初期化): which existing IDs may be chosen -------------------------------


def ids_in_open(
    kind: ApplicationKind, *, contract_id: int, exclude_application_id: int | None = None
) -> QuerySet:
    """The pks of the contract's IDs already in an open (受付, 内容確認中) application of this kind: SPEC §9, an ID
    in one cannot be chosen again for the same kind."""
    items = ApplicationItem.objects.filter(
        target__contract_id=contract_id, application__kind=kind, application__status__in=OPEN_STATUSES
    )
    if exclude_application_id is not None:
        items = items.exclude(application_id=exclude_application_id)
    return items.values("target_id")


def selectable_ids(kind: ApplicationKind, *, contract_id: int) -> QuerySet[NaccsUserId]:
    """The IDs of the contract the kind's select-ids may choose, not revoked (nor due to be) and not in an open
    application of the same kind: for a removal its 通関士IDs, for a password reset every 利用者ID (also one
    imported with no password the portal knows: a reset is how it gets one)."""
    ids = NaccsUserId.objects.filter(contract_id=contract_id, revoked_at__isnull=True)
    if kind == ApplicationKind.REMOVE_BROKER_IDS:
        ids = ids.filter(is_customs_broker=True)
    return (
        ids.exclude(pk__in=ids_in_open(kind, contract_id=contract_id))
        .select_related("contract", "processing_method")
        .order_by("identifier")
    )


TARGET_NOT_SELECTABLE = {
    ApplicationKind.REMOVE_BROKER_IDS: gettext_lazy(
        "選択した通関士IDの中に、削除できないID（既に削除の申込中、廃止済み、またはご契約のものではないID）があります。画面を更新して選び直してください。"
    ),
    ApplicationKind.RESET_PASSWORDS: gettext_lazy(
        "選択した利用者IDの中に、初期化できないID（既に初期化の申込中、廃止済み、またはご契約のものではないID）があります。画面を更新して選び直してください。"
    ),
}


TARGET_COUNT = {
    ApplicationKind.REMOVE_BROKER_IDS: (
        gettext_lazy("削除する通関士IDを1件以上選択してください。"),
        gettext_lazy("1回の申込で削除できる通関士IDは%(max)d件までです。"),
    ),
    ApplicationKind.RESET_PASSWORDS: (
        gettext_lazy("パスワードを初期化する利用者IDを1件以上選択してください。"),
        gettext_lazy("1回の申込で初期化できる利用者IDは%(max)d件までです。"),
    ),
}


def check_target_count(kind: ApplicationKind, count: int) -> None:
    """1 to NSS_MAX_IDS_PER_APPLICATION IDs chosen in one application."""
    too_few, too_many = TARGET_COUNT[kind]
    if count < 1:
        raise DomainError(str(too_few), field="targets", code="no_ids")
    maximum = settings.NSS_MAX_IDS_PER_APPLICATION
    if count > maximum:
        raise DomainError(str(too_many) % {"max": maximum}, field="targets", code="too_many_ids")


def check_targets(kind: ApplicationKind, *, contract_id: int, target_ids: list[int]) -> list[NaccsUserId]:
    """The chosen IDs, each one selectable (`selectable_ids`); 1 to NSS_MAX_IDS_PER_APPLICATION of them. The
    caller holds the IDs' row locks when it is the submission, so that two applications of the kind cannot both
    take one ID."""
    check_target_count(kind, len(target_ids))
    chosen = list(selectable_ids(kind, contract_id=contract_id).filter(pk__in=target_ids))
    if len(chosen) != len(set(target_ids)):
        raise DomainError(str(TARGET_NOT_SELECTABLE[kind]), field="targets", code="target_not_selectable")
    return chosen
