"""The UTB businesses (SPEC §6) and the login of 利用者IDs. Every rule of the NACCS side is here; the screens and
the JSON API only parse input and show the result code this module returns."""

import datetime
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import get_hasher
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, DateTimeField, F, PositiveSmallIntegerField, Q, Value, When
from django.utils.translation import gettext as _

from applications import business_calendar, clock, passwords
from applications.dates import format_date
from applications.exceptions import DomainError
from applications.identifiers import NACCS_USER_ID_RE, normalise_identifier
from applications.models import NaccsUserId

from . import licence_numbers
from . import result_codes as rc
from .models import LicenceRegistration, NaccsLoginState, PasswordHistory, UtbAttempt

# Hashes to check against when no real check may run (an unknown 利用者ID, or a locked one), one per hasher class:
# made with the hasher in use, so the dummy check costs what a real one does.
_DUMMY_HASHES: dict[tuple[str, str], str] = {}


class UtbLoginError(DomainError):
    """Login refused. Without `result` the credentials were refused, with one message whatever the cause (unknown
    ID, wrong password, locked), so the answer never says which. With `result` (U0001) the password was right but
    the ID cannot be used yet or any more, and `reason` says why (screens only)."""

    def __init__(self, message, *, result: rc.ResultCode | None = None, reason: str | None = None):
        super().__init__(message, code=result.code if result else "credentials_refused")
        self.result = result
        self.reason = reason


@dataclass(frozen=True)
class UtbResult:
    result: rc.ResultCode
    user_id: str = ""
    licence_number: str | None = None
    # Why U0001, for the screens (naccs_id_u0001_reason); the API answers the code and message of the table only.
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is rc.OK


def naccs_id_lookup(user_id: str) -> NaccsUserId | None:
    """The 利用者ID (8 characters: 利用者コード + 識別番号), or None. Its initial password's ciphertext is not read:
    the gateway never shows it (only ID通知内容 does)."""
    user_id = normalise_identifier(user_id)
    if not NACCS_USER_ID_RE.fullmatch(user_id):
        return None
    try:
        # get(), not first(): the pair is unique, and first() would order by the contract's own ordering.
        return (
            NaccsUserId.objects.select_related("contract", "processing_method")
            .defer("initial_password_encrypted")
            .get(contract__user_code=user_id[:5], identifier=user_id[5:])
        )
    except NaccsUserId.DoesNotExist:
        return None


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


def _verification_cache_key(naccs_id: NaccsUserId, password: str, address: str) -> str:
    """Keyed by an HMAC (SECRET_KEY) of the ID, its current hash, the password and the lockout address: worthless
    without the key, void as soon as the password changes, and found only by the address that proved the password
    (a guess from anywhere else never meets it, so it is always counted)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"{naccs_id.pk}:{naccs_id.password_hash}:{address}:{password}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"utb-auth:{naccs_id.pk}:{digest}"


def _dummy_check(password: str) -> None:
    """One check of the same cost as a real one, whose answer is thrown away."""
    hasher = get_hasher(passwords.NACCS_PASSWORD_HASHER)
    key = (type(hasher).__module__, type(hasher).__qualname__)
    encoded = _DUMMY_HASHES.get(key)
    if encoded is None:
        encoded = _DUMMY_HASHES[key] = passwords.hash_naccs_password("DUMMY000")
    passwords.check_naccs_password(password, encoded)


def lockout_address(client_address: str | None) -> str:
    """The address part of the lockout key: an IPv4 address as it is, an IPv6 address by its /64 (one subscriber's
    network, which hands its holder billions of addresses to guess from), "" when there is none or it is not an
    address (all such clients then share one lock)."""
    try:
        address = ipaddress.ip_address((client_address or "").strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _login_attempt_reserve(*, naccs_id: NaccsUserId, address: str, now: datetime.datetime) -> bool:
    """Count this attempt as a failure before its password is checked; False when (ID, address) is locked.

    One UPDATE … SET failed_logins = failed_logins + 1 guarded by "not locked": the database serialises
    concurrent attempts on the row, so at most NSS_UTB_MAX_FAILED_LOGINS of them are ever let through to a check
    within a lock window. The attempt that reaches the limit sets the lock itself, so an attempt that never reports
    back (a killed process) still ends in a lock that runs out. A lock that has run out starts the count afresh."""
    limit = settings.NSS_UTB_MAX_FAILED_LOGINS
    lock = now + datetime.timedelta(minutes=settings.NSS_UTB_LOCKOUT_MINUTES)
    expired = Q(locked_until__isnull=False)  # the filter below leaves only locks that have run out
    reaches_limit = Q(locked_until__isnull=True, failed_logins__gte=limit - 1)
    if limit <= 1:
        reaches_limit |= expired
    rows = NaccsLoginState.objects.filter(naccs_user_id=naccs_id, client_address=address)
    for _round in range(2):
        reserved = rows.filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now)).update(
            failed_logins=Case(
                When(expired, then=Value(1)),
                default=F("failed_logins") + 1,
                output_field=PositiveSmallIntegerField(),
            ),
            locked_until=Case(
                When(reaches_limit, then=Value(lock)), default=None, output_field=DateTimeField()
            ),
        )
        if reserved:
            return True
        if rows.exists():
            return False  # locked
        # The first attempt from this address: make the row (a concurrent first attempt may make it too), count.
        NaccsLoginState.objects.bulk_create(
            [NaccsLoginState(naccs_user_id=naccs_id, client_address=address)], ignore_conflicts=True
        )
    return False


def _login_attempts_reset(*, naccs_id: NaccsUserId, address: str) -> None:
    NaccsLoginState.objects.filter(naccs_user_id=naccs_id, client_address=address).update(
        failed_logins=0, locked_until=None
    )


def _login_verified_again(*, naccs_id: NaccsUserId, address: str, now: datetime.datetime) -> bool:
    """A password this address proved within NSS_UTB_VERIFIED_CACHE_SECONDS: nothing is guessed, so nothing is
    counted (an API client's parallel requests never use up its own attempts), but a lock of the address holds.
    One read; the reset is written only when there were failures to forget."""
    state = (
        NaccsLoginState.objects.filter(naccs_user_id=naccs_id, client_address=address)
        .values("failed_logins", "locked_until")
        .first()
    )
    if state is None:
        return True
    if state["locked_until"] is not None and state["locked_until"] > now:
        return False
    if state["failed_logins"] or state["locked_until"] is not None:
        _login_attempts_reset(naccs_id=naccs_id, address=address)
    return True


def naccs_id_authenticate(
    *, user_id: str, password: str, client_address: str | None, now: datetime.datetime | None = None
) -> NaccsUserId:
    """Check a 利用者ID and its password (SPEC §6, §10). Returns the ID, which may still be unusable (see
    `naccs_id_u0001_reason`).

    - The lock is per (ID, client address): NSS_UTB_MAX_FAILED_LOGINS failures in a row from one address refuse
      that address for NSS_UTB_LOCKOUT_MINUTES; the ID's owner elsewhere is not locked out.
    - Every password check is counted before it runs, atomically (`_login_attempt_reserve`), so however many
      guesses arrive at once, at most the limit are checked; a success resets the count of its address.
    - The API checks the password on every request, so a password this address proved a few minutes ago is
      recognised from the cache (`_verification_cache_key`) without a check — and without a count — but never
      past a lock (docs/decisions.md).
    - Unknown ID, wrong password and locked look the same: one message, and exactly one password-hash check of
      the same cost (the real one, or a dummy whose answer is thrown away)."""
    now = now or clock.now()
    password = password or ""
    refused = UtbLoginError(_("利用者IDまたはパスワードが正しくありません。"))
    naccs_id = naccs_id_lookup(user_id)
    if naccs_id is None or not naccs_id.password_hash:
        _dummy_check(password)
        raise refused
    address = lockout_address(client_address)
    verified = _verification_cache_key(naccs_id, password, address)
    if cache.get(verified):
        if _login_verified_again(naccs_id=naccs_id, address=address, now=now):
            return naccs_id
        _dummy_check(password)  # locked
        raise refused
    if not _login_attempt_reserve(naccs_id=naccs_id, address=address, now=now):
        _dummy_check(password)  # locked: the guess is never checked against the real hash
        raise refused
    if not passwords.check_naccs_password(password, naccs_id.password_hash):
        raise refused  # already counted by the reservation
    _login_attempts_reset(naccs_id=naccs_id, address=address)
    cache.set(verified, True, timeout=settings.NSS_UTB_VERIFIED_CACHE_SECONDS)
    return naccs_id


def naccs_id_screen_login(
    *, user_id: str, password: str, client_address: str | None, now: datetime.datetime | None = None
) -> NaccsUserId:
    """The gateway's screen login: the credentials (`naccs_id_authenticate`), then the ID itself. Before its start
    date or once revoked it is refused with U0001 and the reason; an ID with its temporary password is let in (the
    screen sends it to the password change)."""
    now = now or clock.now()
    naccs_id = naccs_id_authenticate(
        user_id=user_id, password=password, client_address=client_address, now=now
    )
    refusal = naccs_id_login_refusal(naccs_id, today=clock.local_date(now))
    if refusal:
        raise UtbLoginError(str(rc.U0001.message), result=rc.U0001, reason=refusal)
    return naccs_id


# Validity of the logged-in ID (U0001) ------------------------------------------------------------------------


def naccs_id_login_refusal(naccs_id: NaccsUserId, *, today: datetime.date) -> str | None:
    """Why the ID cannot use the gateway at all (revoked — from the day of its 廃止日時, which an approved
    通関士IDの削除 sets to its 利用終了日 — no start date, before its start date), or None."""
    if naccs_id.is_revoked(today):
        return _("この利用者IDは廃止されています。")
    if naccs_id.start_date is None:
        return _("利用開始日が決まっていません。")
    if not naccs_id.has_started(today):
        return _("利用開始日（%(date)s）より前です。") % {"date": format_date(naccs_id.start_date)}
    return None


def naccs_id_u0001_reason(naccs_id: NaccsUserId, *, today: datetime.date) -> str | None:
    """Why every business answers U0001 for this ID — the one place that says it: it cannot use the gateway
    (`naccs_id_login_refusal`), or its temporary password has not been changed. None when it may work."""
    refusal = naccs_id_login_refusal(naccs_id, today=today)
    if refusal:
        return refusal
    if naccs_id.password_changed_at is None:
        return _("パスワードが未変更です。")
    return None


def naccs_id_usable(naccs_id: NaccsUserId, *, today: datetime.date) -> bool:
    """U0001 unless: started (start date reached), not revoked, and the temporary password has been changed."""
    return naccs_id_u0001_reason(naccs_id, today=today) is None


def naccs_id_may_log_in(naccs_id: NaccsUserId, *, today: datetime.date) -> bool:
    """The screen login admits an ID with its temporary password (it is sent to the password change), but never
    one that has not started or was revoked."""
    return naccs_id_login_refusal(naccs_id, today=today) is None


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
    user_id = normalise_identifier(target_raw)
    reason = naccs_id_u0001_reason(inputter, today=clock.local_date(now))
    if reason:
        return UtbResult(rc.U0001, user_id, reason=reason)
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
        .only("is_customs_broker")  # what the checks below read; another broker's credentials are not
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
    processing_method: str  # the code (the API's field)
    licence_number: str | None
    registered_at: datetime.datetime | None
    processing_method_name: str = ""  # what the screen shows


@dataclass(frozen=True)
class Utb01Result:
    result: rc.ResultCode
    items: list[Utb01Item] = field(default_factory=list)
    reason: str | None = None  # why U0001, for the screen (as UtbResult.reason)


def utb01_list(*, inputter: NaccsUserId, now: datetime.datetime | None = None) -> Utb01Result:
    """Every 通関士ID of the inputter's 利用者コード with its current licence number (or None) and when."""
    now = now or clock.now()
    reason = naccs_id_u0001_reason(inputter, today=clock.local_date(now))
    if reason:
        return Utb01Result(rc.U0001, reason=reason)
    if not utb_hours_open(now):
        return Utb01Result(rc.U0002)
    current = {
        registration.naccs_user_id_id: registration
        for registration in LicenceRegistration.objects.filter(
            naccs_user_id__contract_id=inputter.contract_id, is_current=True
        )
    }
    # A revoked ID is no longer listed (SPEC §9): from 00:00 Japan time of its 廃止日 on.
    brokers = (
        NaccsUserId.objects.filter(contract_id=inputter.contract_id, is_customs_broker=True)
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now))
        .select_related("contract", "processing_method")
        .defer(*NaccsUserId.CREDENTIAL_FIELDS)
        .order_by("identifier")
    )
    items = []
    for broker in brokers:
        registration = current.get(broker.pk)
        items.append(
            Utb01Item(
                user_id=broker.naccs_user_id,
                processing_method=broker.processing_method.code,
                processing_method_name=broker.processing_method.label,
                licence_number=registration.licence_number if registration else None,
                registered_at=registration.registered_at if registration else None,
            )
        )
    return Utb01Result(rc.OK, items)


# Password change (URY rule) --------------------------------------------------------------------------------


@transaction.atomic
def naccs_password_change(
    *, naccs_id: NaccsUserId, current_password: str, new_password: str, now: datetime.datetime | None = None
) -> NaccsUserId:
    """6–8 characters of upper-case letters and digits, both present, none of the last three passwords (the
    current one included). The initial password's ciphertext is destroyed in the same transaction: from now on
    the ID notice says 「変更済み」 and shows no value (SPEC §10)."""
    now = now or clock.now()
    locked = NaccsUserId.objects.select_for_update(no_key=True).get(pk=naccs_id.pk)
    if not passwords.check_naccs_password(current_password or "", locked.password_hash):
        raise DomainError(
            _("現在のパスワードが正しくありません。"), field="current_password", code="wrong_current_password"
        )
    problem = passwords.naccs_password_problem(new_password or "")
    if problem:
        raise DomainError(problem, field="new_password", code="password_rule")
    recent = [locked.password_hash] + list(
        PasswordHistory.objects.filter(naccs_user_id=locked).values_list("password_hash", flat=True)[:2]
    )
    if any(passwords.check_naccs_password(new_password, encoded) for encoded in recent):
        raise DomainError(
            _("直近3回までに使用したパスワードは使用できません。"),
            field="new_password",
            code="password_reused",
        )
    PasswordHistory.objects.create(naccs_user_id=locked, password_hash=locked.password_hash)
    locked.password_hash = passwords.hash_naccs_password(new_password)
    locked.password_changed_at = now
    locked.initial_password_encrypted = ""
    locked.save(update_fields=["password_hash", "password_changed_at", "initial_password_encrypted"])
    return locked
