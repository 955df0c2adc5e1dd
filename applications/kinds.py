"""The kinds of 利用申込 (SPEC §9) and everything in which they differ, in one place.

The shared steps — the draft, 申込担当者, 申込内容確認, submission with its reception number and receipt e-mail, the
staff queue, take / release / reject, the audit trail — are one code path each and read the kind from here: its
labels, its selection step (add-ids or select-ids), the date the customer chooses, the check of the selection at
submission and what approval does (`approval`: "issue" new IDs, or "revoke" the chosen ones on the 利用終了日).
"""

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import rules
from .exceptions import DomainError
from .models import OPEN_STATUSES, Application, ApplicationItem, ApplicationKind, NaccsUserId

ISSUE = "issue"
REVOKE = "revoke"


@dataclass(frozen=True)
class Kind:
    value: str
    menu_label: Promise
    guidance_button: Promise
    guidance_title: Promise
    # The selection step: its URL name (= data-screen) and the confirm screen's way back to it.
    selection_screen: str
    selection_back_label: Promise
    # The date the customer chooses: the application's field (one of models.DESIRED_DATE_FIELDS, or None for a
    # kind that asks for no date) and its label.
    desired_date_field: str | None
    desired_date_label: Promise
    # The date approval fixes (利用開始日 / 利用終了日), as staff are asked for it.
    confirmed_date_label: Promise
    approval: str
    # The application's field that holds the date approval fixed (None: the kind fixes no date).
    confirmed_date_field: str | None = None

    @property
    def label(self) -> str:
        return ApplicationKind(self.value).label

    @property
    def guidance_url_name(self) -> str:
        return "guidance" if self.value == ApplicationKind.ADD_CUSTOMS_BROKER_IDS else "guidance-remove"

    def desired_date(self, application: Application) -> datetime.date | None:
        """The date the customer asked for; None when the kind asks for none (or it is not chosen yet)."""
        return getattr(application, self.desired_date_field) if self.desired_date_field else None

    def confirmed_date(self, application: Application) -> datetime.date | None:
        """The date approval fixed (利用開始日 / 利用終了日); None before approval or when the kind fixes none."""
        return getattr(application, self.confirmed_date_field) if self.confirmed_date_field else None

    def check_desired_date(self, day: datetime.date | None, *, today: datetime.date) -> None:
        if self.desired_date_field == "desired_end_date":
            rules.check_desired_end_date(day, today=today)
        else:
            rules.check_desired_start_date(day, today=today)


KINDS = {
    ApplicationKind.ADD_CUSTOMS_BROKER_IDS: Kind(
        value=ApplicationKind.ADD_CUSTOMS_BROKER_IDS,
        menu_label=gettext_lazy("通関士IDの追加"),
        guidance_button=gettext_lazy("通関士IDを追加する"),
        guidance_title=gettext_lazy("通関士IDガイダンス画面"),
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
        selection_screen="select-ids",
        selection_back_label=gettext_lazy("対象IDの選択に戻る"),
        desired_date_field="desired_end_date",
        desired_date_label=gettext_lazy("利用終了希望日"),
        confirmed_date_label=gettext_lazy("利用終了日"),
        approval=REVOKE,
        confirmed_date_field="end_date",
    ),
}


def kind_of(application_or_value) -> Kind:
    value = getattr(application_or_value, "kind", application_or_value)
    return KINDS[ApplicationKind(value)]


# 通関士IDの削除: which IDs may be chosen -----------------------------------------------------------------------


def ids_in_open_removals(*, contract_id: int, exclude_application_id: int | None = None) -> QuerySet:
    """The pks of the contract's IDs already in an open (受付, 内容確認中) removal."""
    items = ApplicationItem.objects.filter(
        target__contract_id=contract_id,
        application__kind=ApplicationKind.REMOVE_BROKER_IDS,
        application__status__in=OPEN_STATUSES,
    )
    if exclude_application_id is not None:
        items = items.exclude(application_id=exclude_application_id)
    return items.values("target_id")


def removable_ids(*, contract_id: int) -> QuerySet[NaccsUserId]:
    """The 通関士IDs of the contract a removal may choose: customs-broker IDs, not revoked (nor due to be), not
    already in an open removal."""
    return (
        NaccsUserId.objects.filter(contract_id=contract_id, is_customs_broker=True, revoked_at__isnull=True)
        .exclude(pk__in=ids_in_open_removals(contract_id=contract_id))
        .select_related("contract", "processing_method")
        .order_by("identifier")
    )


def check_removal_targets(*, contract_id: int, target_ids: list[int]) -> list[NaccsUserId]:
    """The chosen IDs, each one removable (`removable_ids`); 1 to NSS_MAX_IDS_PER_APPLICATION of them. The caller
    holds the IDs' row locks when it is the submission, so that two removals cannot both take one ID."""
    rules.check_item_count(len(target_ids), adding=False, removal=True)
    chosen = list(removable_ids(contract_id=contract_id).filter(pk__in=target_ids))
    if len(chosen) != len(set(target_ids)):
        raise DomainError(
            _(
                "選択した通関士IDの中に、削除できないID（既に削除の申込中、廃止済み、またはご契約のものではないID）があります。画面を更新して選び直してください。"
            ),
            field="targets",
            code="target_not_removable",
        )
    return chosen
