"""The rules of the filing journey (SPEC §3), one function each.

Forms call them to put a message next to the field; services call them again inside their transaction, where
they are authoritative. Each raises DomainError with the Japanese message the customer reads.
"""

import datetime
import unicodedata

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import business_calendar, clock
from .dates import format_date
from .exceptions import DomainError
from .hyphens import normalise_hyphenated_number
from .identifiers import is_valid_identifier, normalise_identifier
from .models import OPEN_STATUSES, Application, ApplicationItem, Contract, NaccsUserId, ProcessingMethod


def earliest_start_date(today: datetime.date) -> datetime.date:
    return business_calendar.add_business_days(today, settings.NSS_START_DATE_MIN_BUSINESS_DAYS)


def latest_start_date(today: datetime.date) -> datetime.date:
    return business_calendar.add_months(today, settings.NSS_START_DATE_MAX_MONTHS)


def start_date_warning_limit(today: datetime.date) -> datetime.date:
    """「開始日間近」 (SPEC §8): an open application whose desired start date is on or before this day."""
    return business_calendar.add_business_days(today, settings.NSS_START_DATE_WARNING_BUSINESS_DAYS)


def is_start_date_near(
    application: Application, today: datetime.date, *, limit: datetime.date | None = None
) -> bool:
    """Still open, and the date its customer asked for (利用開始希望日, or a removal's 利用終了希望日:
    applications/kinds.py) is within NSS_START_DATE_WARNING_BUSINESS_DAYS business days (or already past): the
    centre must decide soon or the customer's date is lost. A page of many rows passes `limit`, today's
    `start_date_warning_limit`, worked out once."""
    from .kinds import kind_of  # kinds builds on these rules

    desired = kind_of(application).desired_date(application)
    return (
        application.status in OPEN_STATUSES
        and desired is not None
        and desired <= (limit or start_date_warning_limit(today))
    )


def check_desired_start_date(day: datetime.date | None, *, today: datetime.date) -> None:
    """利用開始希望日: a business day, ≥ N business days after `today` (submission day), ≤ M months ahead."""
    _check_desired_day(
        day,
        today=today,
        field="desired_start_date",
        required=_("利用開始希望日を入力してください。"),
        too_early=_("利用開始希望日は申込日から%(days)d営業日以降（%(earliest)s以降）を指定してください。"),
        too_late=_("利用開始希望日は%(months)dか月以内（%(latest)sまで）を指定してください。"),
    )


def check_desired_end_date(day: datetime.date | None, *, today: datetime.date) -> None:
    """利用終了希望日 (通関士IDの削除, SPEC §9): the same window as the start date."""
    _check_desired_day(
        day,
        today=today,
        field="desired_end_date",
        required=_("利用終了希望日を入力してください。"),
        too_early=_("利用終了希望日は申込日から%(days)d営業日以降（%(earliest)s以降）を指定してください。"),
        too_late=_("利用終了希望日は%(months)dか月以内（%(latest)sまで）を指定してください。"),
    )


def _check_desired_day(day, *, today, field, required, too_early, too_late) -> None:
    if day is None:
        raise DomainError(required, field=field, code="required")
    if not business_calendar.is_business_day(day):
        holiday = business_calendar.holiday_name(day)
        if holiday:
            reason = _("祝日（%(name)s）") % {"name": holiday}
        elif business_calendar.is_centre_closed_day(day) and day.weekday() < 5:
            reason = _("NACCSセンターの休業日")
        else:
            reason = _("営業日ではない日")
        raise DomainError(
            _("%(date)sは%(reason)sです。平日（土日祝日を除く）を指定してください。")
            % {"date": format_date(day), "reason": reason},
            field=field,
            code="not_business_day",
        )
    earliest = earliest_start_date(today)
    if day < earliest:
        raise DomainError(
            too_early
            % {"days": settings.NSS_START_DATE_MIN_BUSINESS_DAYS, "earliest": format_date(earliest)},
            field=field,
            code="too_early",
        )
    latest = latest_start_date(today)
    if day > latest:
        raise DomainError(
            too_late % {"months": settings.NSS_START_DATE_MAX_MONTHS, "latest": format_date(latest)},
            field=field,
            code="too_late",
        )


def draft_deletion_date(
    *, last_changed: datetime.datetime, warned_at: datetime.datetime | None = None
) -> datetime.date:
    """The day a draft (作成中) is deleted: it is kept NSS_DRAFT_EXPIRY_DAYS whole days after the day of its last
    change (Japan time) and deleted on the day after, so never before that many days have passed. Its creator is
    e-mailed NSS_DRAFT_EXPIRY_WARNING_DAYS days before; when that e-mail went out late (the sweep did not run),
    the day moves so that the warning still comes that many days ahead. A warning about an earlier version of
    the draft (`warned_at` before `last_changed`) counts for nothing."""
    day = clock.local_date(last_changed) + datetime.timedelta(days=settings.NSS_DRAFT_EXPIRY_DAYS + 1)
    if warned_at is not None and warned_at >= last_changed:
        warned_ahead = clock.local_date(warned_at) + datetime.timedelta(
            days=settings.NSS_DRAFT_EXPIRY_WARNING_DAYS
        )
        day = max(day, warned_ahead)
    return day


def draft_changed_before(deletion_day: datetime.date) -> datetime.datetime:
    """The instant such that a draft last changed before it has its deletion day on or before `deletion_day`
    (`draft_deletion_date` without a late warning): the cut-off of the sweep's queries."""
    return clock.start_of_day(deletion_day - datetime.timedelta(days=settings.NSS_DRAFT_EXPIRY_DAYS))


def draft_warned_before(today: datetime.date) -> datetime.datetime:
    """A draft warned before this instant has been warned NSS_DRAFT_EXPIRY_WARNING_DAYS days ahead by `today`."""
    return clock.start_of_day(today - datetime.timedelta(days=settings.NSS_DRAFT_EXPIRY_WARNING_DAYS - 1))


def normalise_broker_name(raw: str) -> str:
    """Width-fold (NFKC), trim, and collapse inner spaces, so that 「山田　太郎」 and 「山田 太郎」 are one name."""
    return " ".join(unicodedata.normalize("NFKC", raw or "").split())


def check_processing_method(contract: Contract, method: ProcessingMethod | None) -> None:
    if method is None:
        raise DomainError(_("処理方式を選択してください。"), field="processing_method", code="required")
    if not contract.processing_methods.filter(pk=method.pk).exists():
        raise DomainError(
            _("%(method)sはご契約の処理方式ではありません。") % {"method": method.name},
            field="processing_method",
            code="method_not_in_contract",
        )


def check_desired_identifier(contract: Contract, application: Application, identifier: str) -> None:
    """An empty identifier means "allocate one"; otherwise 3 letters/digits, free in the contract, once per application."""
    field = "desired_identifier"
    if not identifier:
        return
    if not is_valid_identifier(identifier):
        raise DomainError(
            _("希望識別番号は英大文字・数字3文字で入力してください。"), field=field, code="identifier_shape"
        )
    check_identifier_free_in_contract(contract, identifier)
    if ApplicationItem.objects.filter(application=application, desired_identifier=identifier).exists():
        raise DomainError(
            _("識別番号%(identifier)sはこの申込で既に設定されています。") % {"identifier": identifier},
            field=field,
            code="identifier_repeated",
        )


def check_identifier_free_in_contract(contract: Contract, identifier: str) -> None:
    if NaccsUserId.objects.filter(contract=contract, identifier=identifier).exists():
        raise DomainError(
            _(
                "識別番号%(identifier)sはご契約で既に使用されています（%(user_id)s）。別の番号を入力してください。"
            )
            % {"identifier": identifier, "user_id": contract.user_code + identifier},
            field="desired_identifier",
            code="identifier_in_contract",
        )


def check_broker_name(application: Application, method: ProcessingMethod | None, broker_name: str) -> None:
    field = "broker_name"
    if not broker_name:
        raise DomainError(_("通関士氏名を入力してください。"), field=field, code="required")
    if (
        method
        and ApplicationItem.objects.filter(
            application=application, processing_method=method, broker_name=broker_name
        ).exists()
    ):
        raise DomainError(
            _(
                "%(name)sさんの%(method)sの通関士IDは既に設定されています。1人の通関士に必要なIDは処理方式ごとに1つです。"
            )
            % {"name": broker_name, "method": method.name},
            field=field,
            code="broker_repeated",
        )


def check_item_count(count: int, *, adding: bool) -> None:
    """1 to NSS_MAX_IDS_PER_APPLICATION IDs asked for in one application (通関士IDの追加)."""
    maximum = settings.NSS_MAX_IDS_PER_APPLICATION
    if adding and count >= maximum:
        raise DomainError(
            _("1回の申込で追加できる通関士IDは%(max)d件までです。") % {"max": maximum}, code="too_many_ids"
        )
    if not adding and count < 1:
        raise DomainError(
            _("通関士IDを1件以上設定してください（「設定する」ボタンで申込情報に追加します）。"),
            code="no_ids",
        )
    if not adding and count > maximum:
        raise DomainError(
            _("1回の申込で追加できる通関士IDは%(max)d件までです。") % {"max": maximum}, code="too_many_ids"
        )


__all__ = [
    "PHONE_VALIDATOR",
    "check_broker_name",
    "check_desired_end_date",
    "check_desired_identifier",
    "check_desired_start_date",
    "check_identifier_free_in_contract",
    "check_item_count",
    "check_processing_method",
    "earliest_start_date",
    "latest_start_date",
    "normalise_broker_name",
    "normalise_identifier",
    "normalise_phone",
]


# A phone number after normalise_phone: half-width digits and hyphens, optionally an international "+".
PHONE_VALIDATOR = RegexValidator(
    r"^\+?[0-9][0-9\-]{8,18}[0-9]$",
    gettext_lazy("電話番号は半角数字とハイフンで入力してください（例：03-1234-5678）。"),
)


def normalise_phone(raw: str) -> str:
    """Width-fold, turn hyphen look-alikes into "-", drop spaces: ０３－１２３４－５６７８ → 03-1234-5678."""
    return normalise_hyphenated_number(raw)
