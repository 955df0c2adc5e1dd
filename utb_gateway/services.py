"""The UTB businesses (SPEC §6) and the login of 利用者IDs. Every rule of the NACCS side is here; the screens and
the JSON API only parse input and show the result code this module returns."""

import datetime
import hashlib
import hmac
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from applications import business_calendar, clock, passwords
from applications.identifiers import NACCS_USER_ID_RE
from applications.models import NaccsUserId

from . import licence_numbers
from . import result_codes as rc
from .models import LicenceRegistration, NaccsLoginState, PasswordHistory, UtbAttempt

# A hash to check against when the 利用者ID does not exist, so an unknown ID takes as long as a wrong password.
_DUMMY_HASH_CACHE: dict[str, str] = {}


class UtbLoginError(Exception):
    """Login refused. The message never says whether the ID exists."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class UtbPasswordError(Exception):
    def __init__(self, message, *, field: str):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class UtbResult:
    result: rc.ResultCode
    user_id: str = ""
    licence_number: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is rc.OK


def normalise_user_id(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip().upper()


def naccs_id_lookup(user_id: str) -> NaccsUserId | None:
    """The 利用者ID (8 characters: 利用者コード + 識別番号), or None."""
    user_id = normalise_user_id(user_id)
    if not NACCS_USER_ID_RE.fullmatch(user_id):
        return None
    return (
        NaccsUserId.objects.select_related("contract", "processing_method")
        .filter(contract__user_code=user_id[:5], identifier=user_id[5:])
        .first()
    )


# Hours ------------------------------------------------------------------------------------------------------


def utb_hours_open(now: datetime.datetime) -> bool:
    """UTB can be used on weekdays 00:00–23:00 Japan time. Whether a national holiday counts as a weekday is the
    setting NSS_UTB_OPEN_ON_HOLIDAYS (default: it does not)."""
    local = now.astimezone(clock.JST)
    day = local.date()
    if day.weekday() >= 5:
        return False
    if business_calendar.is_public_holiday(day) and not settings.NSS_UTB_OPEN_ON_HOLIDAYS:
        return False
    return local.hour < 23


# Login ------------------------------------------------------------------------------------------------------


def _verification_cache_key(naccs_id: NaccsUserId, password: str) -> str:
    """Keyed by an HMAC (SECRET_KEY) of the ID, its current hash and the password: worthless without the key, and
    void as soon as the password changes."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"{naccs_id.pk}:{naccs_id.password_hash}:{password}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"utb-auth:{naccs_id.pk}:{digest}"


def _password_matches(naccs_id: NaccsUserId, password: str) -> bool:
    """The scrypt check, skipped for a few minutes after the same ID and password were verified (the API checks
    the password on every request; see docs/decisions.md)."""
    key = _verification_cache_key(naccs_id, password)
    if cache.get(key):
        return True
    if passwords.check_naccs_password(password, naccs_id.password_hash):
        cache.set(key, True, timeout=settings.NSS_UTB_VERIFIED_CACHE_SECONDS)
        return True
    return False


def _dummy_check(password: str) -> None:
    encoded = _DUMMY_HASH_CACHE.get("hash")
    if encoded is None:
        encoded = _DUMMY_HASH_CACHE["hash"] = passwords.hash_naccs_password("DUMMY000")
    passwords.check_naccs_password(password, encoded)


def naccs_id_authenticate(
    *, user_id: str, password: str, now: datetime.datetime | None = None
) -> NaccsUserId:
    """Check a 利用者ID and its password; lock the ID after NSS_UTB_MAX_FAILED_LOGINS failures in a row for
    NSS_UTB_LOCKOUT_MINUTES. Returns the ID (which may still be unusable: see `naccs_id_usable`)."""
    now = now or clock.now()
    refused = UtbLoginError(_("利用者IDまたはパスワードが正しくありません。"))
    naccs_id = naccs_id_lookup(user_id)
    if naccs_id is None or not naccs_id.password_hash:
        _dummy_check(password or "")
        raise refused
    state = NaccsLoginState.objects.filter(naccs_user_id=naccs_id).first()
    if state and state.locked_until and state.locked_until > now:
        raise UtbLoginError(
            _(
                "ログインに続けて失敗したため、この利用者IDは一時的にロックされています。しばらくしてからお試しください。"
            )
        )
    if _password_matches(naccs_id, password or ""):
        if state and state.failed_logins:
            NaccsLoginState.objects.filter(pk=state.pk).update(failed_logins=0, locked_until=None)
        return naccs_id
    _record_failed_login(naccs_id, now)
    raise refused


@transaction.atomic
def _record_failed_login(naccs_id: NaccsUserId, now: datetime.datetime) -> None:
    state, _created = NaccsLoginState.objects.select_for_update(no_key=True).get_or_create(
        naccs_user_id=naccs_id
    )
    state.failed_logins += 1
    if state.failed_logins >= settings.NSS_UTB_MAX_FAILED_LOGINS:
        state.locked_until = now + datetime.timedelta(minutes=settings.NSS_UTB_LOCKOUT_MINUTES)
        state.failed_logins = 0
    state.save(update_fields=["failed_logins", "locked_until"])


def naccs_id_usable(naccs_id: NaccsUserId, *, today: datetime.date) -> bool:
    """U0001 unless: started (start date reached), not revoked, and the temporary password has been changed."""
    started = naccs_id.start_date is not None and naccs_id.start_date <= today
    return started and naccs_id.revoked_at is None and naccs_id.password_changed_at is not None


def naccs_id_may_log_in(naccs_id: NaccsUserId, *, today: datetime.date) -> bool:
    """The screen login admits an ID with its temporary password (it is sent to the password change), but never
    one that has not started or was revoked."""
    started = naccs_id.start_date is not None and naccs_id.start_date <= today
    return started and naccs_id.revoked_at is None


# UTB: 通関士証票番号登録 -------------------------------------------------------------------------------------


def licence_number_register(
    *,
    inputter: NaccsUserId,
    target_user_id: str,
    raw_licence_number: str,
    channel: str,
    now: datetime.datetime | None = None,
) -> UtbResult:
    """UTB. Checks in the order of the NACCS table, registers the normalised number for the target 通関士ID, and
    records the attempt whatever its result — all in one transaction."""
    now = now or clock.now()
    # What is recorded is what was sent, less characters no database column can hold.
    target_raw = (target_user_id or "").replace("\x00", "")
    licence_raw = (raw_licence_number or "").replace("\x00", "")
    normalised = licence_numbers.normalise(licence_raw)
    with transaction.atomic():
        result = _register(inputter=inputter, target_raw=target_raw, normalised=normalised, now=now)
        UtbAttempt.objects.create(
            inputter=inputter,
            channel=channel,
            target_user_id=target_raw[:100],
            raw_licence_number=licence_raw[:100],
            normalised_licence_number=normalised[:100],
            result_code=result.result.code,
            attempted_at=now,
        )
    return result


def _register(
    *, inputter: NaccsUserId, target_raw: str, normalised: str, now: datetime.datetime
) -> UtbResult:
    user_id = normalise_user_id(target_raw)
    if not naccs_id_usable(inputter, today=now.astimezone(clock.JST).date()):
        return UtbResult(rc.U0001, user_id)
    if not utb_hours_open(now):
        return UtbResult(rc.U0002, user_id)
    if not user_id:
        return UtbResult(rc.S0001, user_id)
    if not NACCS_USER_ID_RE.fullmatch(user_id):
        return UtbResult(rc.S0002, user_id)
    if user_id[:5] != inputter.contract.user_code:
        return UtbResult(rc.S0005, user_id)
    # Lock the target row only (of=self, no ordering join to the contract) and as NO KEY UPDATE: inserts that merely
    # reference an ID (the attempt, the registration) take KEY SHARE locks, which NO KEY UPDATE does not block, so
    # two brokers registering for each other at once cannot deadlock.
    target = (
        NaccsUserId.objects.select_for_update(of=("self",), no_key=True)
        .filter(contract_id=inputter.contract_id, identifier=user_id[5:])
        .order_by()
        .first()
    )
    if target is None:
        return UtbResult(rc.S0006, user_id)
    if not target.is_customs_broker:
        return UtbResult(rc.S0007, user_id)
    if not normalised:
        return UtbResult(rc.L0001, user_id)
    licence_number = licence_numbers.to_registered_form(normalised)
    if licence_number is None:
        return UtbResult(rc.L0002, user_id)
    # The target row is locked: registrations for one ID are serialised, and exactly one stays current.
    LicenceRegistration.objects.filter(naccs_user_id=target, is_current=True).update(is_current=False)
    LicenceRegistration.objects.create(
        naccs_user_id=target, licence_number=licence_number, registered_by=inputter, registered_at=now
    )
    return UtbResult(rc.OK, user_id, licence_number)


# UTB01: 通関士証票番号照会 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Utb01Item:
    user_id: str
    processing_method: str
    licence_number: str | None
    registered_at: datetime.datetime | None


def utb01_list(
    *, inputter: NaccsUserId, now: datetime.datetime | None = None
) -> tuple[rc.ResultCode, list[Utb01Item]]:
    """Every 通関士ID of the inputter's 利用者コード with its current licence number (or None) and when."""
    now = now or clock.now()
    if not naccs_id_usable(inputter, today=now.astimezone(clock.JST).date()):
        return rc.U0001, []
    if not utb_hours_open(now):
        return rc.U0002, []
    current = {
        registration.naccs_user_id_id: registration
        for registration in LicenceRegistration.objects.filter(
            naccs_user_id__contract_id=inputter.contract_id, is_current=True
        )
    }
    brokers = (
        NaccsUserId.objects.filter(contract_id=inputter.contract_id, is_customs_broker=True)
        .select_related("contract", "processing_method")
        .order_by("identifier")
    )
    items = []
    for broker in brokers:
        registration = current.get(broker.pk)
        items.append(
            Utb01Item(
                user_id=broker.naccs_user_id,
                processing_method=broker.processing_method.code,
                licence_number=registration.licence_number if registration else None,
                registered_at=registration.registered_at if registration else None,
            )
        )
    return rc.OK, items


# Password change (URY rule) --------------------------------------------------------------------------------


@transaction.atomic
def naccs_password_change(
    *, naccs_id: NaccsUserId, current_password: str, new_password: str, now: datetime.datetime | None = None
) -> NaccsUserId:
    """6–8 characters of upper-case letters and digits, both present, none of the last three passwords (the
    current one included). The ID notice keeps showing the initial password, marked as changed."""
    now = now or clock.now()
    locked = NaccsUserId.objects.select_for_update(no_key=True).get(pk=naccs_id.pk)
    if not passwords.check_naccs_password(current_password or "", locked.password_hash):
        raise UtbPasswordError(_("現在のパスワードが正しくありません。"), field="current_password")
    problem = passwords.naccs_password_problem(new_password or "")
    if problem:
        raise UtbPasswordError(problem, field="new_password")
    recent = [locked.password_hash] + list(
        PasswordHistory.objects.filter(naccs_user_id=locked).values_list("password_hash", flat=True)[:2]
    )
    if any(passwords.check_naccs_password(new_password, encoded) for encoded in recent):
        raise UtbPasswordError(_("直近3回までに使用したパスワードは使用できません。"), field="new_password")
    PasswordHistory.objects.create(naccs_user_id=locked, password_hash=locked.password_hash)
    locked.password_hash = passwords.hash_naccs_password(new_password)
    locked.password_changed_at = now
    locked.save(update_fields=["password_hash", "password_changed_at"])
    return locked
