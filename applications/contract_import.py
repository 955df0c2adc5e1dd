"""The contract import (SPEC §11 "Import"): contracts (契約), the 利用者IDs they already hold and their customer
accounts, from one CSV file. `manage.py import_contracts` calls it; an upload screen can call it the same way.

The format (README "Importing contracts", sample docs/samples/contracts.csv): a header row of the Japanese column
names of COLUMNS, in any order, then one record per row. The column 種別 says what the row is — 契約, 利用者ID or
アカウント — and which columns it uses (COLUMNS_USED); its other cells stay empty. Rows may come in any order (an
ID before its contract), blank rows are skipped, and row numbers are the spreadsheet's (the header is row 1).

The file is the truth for what it names and says nothing about the rest: contracts, IDs and accounts it does not
name are left as they are, and nothing is ever deleted. Keys: a contract by its 利用者コード, a 利用者ID by
(利用者コード, 識別番号), an account by its ユーザーID. An imported 利用者ID gets no password the portal knows (no
initial password, an unusable hash); an imported account gets an unusable password (it is invited later). An
account never moves to another contract, and an ID the portal itself issued is not changed by an import.

`contracts_import` checks every row, against the file and against the database, and reports every error with its
row and column. Only when no row is wrong does it write, everything in one transaction, with bulk statements: a
few queries per CHUNK rows, none per row.
"""

import codecs
import csv
import datetime
import io
import re
import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import audit, clock, rules
from .exceptions import DomainError
from .identifiers import IDENTIFIER_RE, normalise_identifier, user_code_clean
from .models import Contract, NaccsUserId, ProcessingMethod, User
from .usernames import USERNAME_MESSAGE, is_valid_username, normalise_username
from .validators import text_problem

# --- the format ----------------------------------------------------------------------------------------------

KIND = "種別"
USER_CODE = "利用者コード"
COMPANY_NAME = "会社名"
OFFICE_NAME = "事業所名"
DEPARTMENT = "部署"
ADDRESS = "所在地"
PROCESSING_METHOD = "処理方式"
IDENTIFIER = "識別番号"
CUSTOMS_BROKER = "通関士ID"
BROKER_NAME = "通関士氏名"
START_DATE = "利用開始日"
REVOKED_ON = "廃止日"
USERNAME = "ユーザーID"
FULL_NAME = "氏名"
PHONE = "電話番号"
EMAIL = "メールアドレス"

# Every column of the file, in the order of the sample file. The header must have each exactly once.
COLUMNS = (
    KIND,
    USER_CODE,
    COMPANY_NAME,
    OFFICE_NAME,
    DEPARTMENT,
    ADDRESS,
    PROCESSING_METHOD,
    IDENTIFIER,
    CUSTOMS_BROKER,
    BROKER_NAME,
    START_DATE,
    REVOKED_ON,
    USERNAME,
    FULL_NAME,
    PHONE,
    EMAIL,
)

# The values of 種別 (the record types).
KIND_CONTRACT = "契約"
KIND_NACCS_USER_ID = "利用者ID"
KIND_ACCOUNT = "アカウント"

COLUMNS_USED = {
    KIND_CONTRACT: (KIND, USER_CODE, COMPANY_NAME, OFFICE_NAME, DEPARTMENT, ADDRESS, PROCESSING_METHOD),
    KIND_NACCS_USER_ID: (
        KIND,
        USER_CODE,
        IDENTIFIER,
        PROCESSING_METHOD,
        CUSTOMS_BROKER,
        BROKER_NAME,
        START_DATE,
        REVOKED_ON,
    ),
    KIND_ACCOUNT: (KIND, USER_CODE, USERNAME, FULL_NAME, DEPARTMENT, PHONE, EMAIL),
}

# Lookups and writes go to the database this many keys or rows at a time.
CHUNK = 1000

# Several processing methods in one cell of a 契約 row: separated by spaces, "|", "," or "、".
METHOD_SEPARATORS = re.compile(r"[\s|,、]+")
DATE_RE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})", re.ASCII)

ENCODING_LABELS = {
    "utf-8-sig": gettext_lazy("UTF-8（BOMあり）"),
    "utf-8": "UTF-8",
    "cp932": "Shift_JIS（CP932）",
}

CONTRACT_FIELDS = ("company_name", "office_name", "department", "address")
NACCS_USER_ID_FIELDS = ("processing_method", "is_customs_broker", "broker_name", "start_date", "revoked_at")
ACCOUNT_FIELDS = ("full_name", "department", "phone", "email")


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


# --- the report ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRowError:
    """One refusal: `row` is the file's row number (1: the header; None: the file as a whole), `column` the name of
    the column (None: the row as a whole), `message` what the operator reads, `code` the rule (for tests)."""

    row: int | None
    column: str | None
    message: str
    code: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        if self.column is None:
            return _("%(row)d行目：%(message)s") % {"row": self.row, "message": self.message}
        return _("%(row)d行目 %(column)s：%(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """What an import did, or with `dry_run` (or with errors) would have done. Counts are of the rows without
    errors; with any error nothing is written (`written` False)."""

    dry_run: bool
    encoding: str | None = None  # the codec the file was read with; None when rows were given
    rows: int = 0  # data rows read (blank rows not counted)
    contracts: KindCounts = field(default_factory=KindCounts)
    naccs_user_ids: KindCounts = field(default_factory=KindCounts)
    accounts: KindCounts = field(default_factory=KindCounts)
    errors: list[ImportRowError] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def encoding_label(self) -> str:
        return str(ENCODING_LABELS.get(self.encoding, self.encoding or ""))

    def counts(self) -> list[tuple[str, KindCounts]]:
        """(label, counts) per kind of record, in the order of the format."""
        return [
            (_("契約"), self.contracts),
            (_("利用者ID"), self.naccs_user_ids),
            (_("アカウント"), self.accounts),
        ]

    def summary_lines(self) -> list[str]:
        """The report as lines of text (the command prints them; a screen may show them as they are)."""
        lines = []
        if self.encoding:
            lines.append(_("文字コード：%(encoding)s") % {"encoding": self.encoding_label})
        for label, counts in self.counts():
            lines.append(
                _("%(kind)s：新規 %(created)d件、更新 %(updated)d件、変更なし %(unchanged)d件")
                % {
                    "kind": label,
                    "created": counts.created,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                }
            )
        if self.errors:
            lines.append(
                _("エラーが%(count)d件あるため、何も取り込んでいません。") % {"count": len(self.errors)}
            )
        elif self.dry_run:
            lines.append(_("試行のみ：データベースには何も書き込んでいません。"))
        elif self.written:
            lines.append(_("取り込みました。"))
        else:
            lines.append(_("変更はありません。"))
        return lines

    def error(self, row: int | None, column: str | None, message, code: str) -> None:
        self.errors.append(ImportRowError(row, column, str(message), code))


# --- reading the file ----------------------------------------------------------------------------------------


class _FileRefused(Exception):
    def __init__(self, message, code: str):
        super().__init__(str(message))
        self.message = str(message)
        self.code = code


def decode(data: bytes) -> tuple[str, str]:
    """The text of the file and the codec it was read with: a UTF-8 BOM → utf-8-sig; valid UTF-8 → utf-8;
    anything else → cp932 (Shift_JIS as Japanese Excel writes it, with its NEC and IBM extensions)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _FileRefused(
            _(
                "UTF-16のファイルは読めません。Excelでは「CSV UTF-8（コンマ区切り）」または「CSV（コンマ区切り）」で保存してください。"
            ),
            "utf16",
        )
    candidates = ("utf-8-sig",) if data.startswith(codecs.BOM_UTF8) else ("utf-8", "cp932")
    for codec in candidates:
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    raise _FileRefused(
        _("ファイルの文字コードを判別できません。UTF-8 または Shift_JIS（CP932）で保存してください。"),
        "encoding",
    )


def _csv_rows(text: str, report: ImportReport) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    row = 0
    while True:
        row += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            report.error(
                row,
                None,
                _('CSVとして読めません（引用符「"」の閉じ忘れ、または長すぎる値）。'),
                "csv",
            )
            return
        yield cells


# --- checking one row ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _ContractRecord:
    row: int
    user_code: str
    company_name: str
    office_name: str
    department: str
    address: str
    method_codes: frozenset[str]


@dataclass(slots=True)
class _NaccsUserIdRecord:
    row: int
    user_code: str
    identifier: str
    method_code: str
    is_customs_broker: bool
    broker_name: str
    start_date: datetime.date | None
    revoked_on: datetime.date | None

    @property
    def naccs_user_id(self) -> str:
        return self.user_code + self.identifier


@dataclass(slots=True)
class _AccountRecord:
    row: int
    user_code: str
    username: str
    full_name: str
    department: str
    phone: str
    email: str


def _text_problem(value: str) -> str | None:
    # Most cells are plain ASCII: printable ASCII holds nothing the text check refuses, so skip its character walk.
    if value.isascii() and value.isprintable():
        return None
    return text_problem(value)


class _Row:
    """The cells of one data row by column; each reader returns the value, or None after reporting why not."""

    def __init__(self, number: int, cells: dict[str, str], report: ImportReport):
        self.number = number
        self.cells = cells
        self.report = report
        self.errors_before = len(report.errors)
        self.user_code_read: str | None = None  # the row's 利用者コード once read without error

    @property
    def ok(self) -> bool:
        return len(self.report.errors) == self.errors_before

    def error(self, column: str, message, code: str) -> None:
        self.report.error(self.number, column, message, code)

    def text(self, column: str, *, max_length: int, required: bool = False) -> str | None:
        raw = self.cells[column]
        problem = _text_problem(raw)
        if problem:
            self.error(column, problem, "text")
            return None
        value = raw.strip()
        if not value and required:
            self.error(column, _("入力してください。"), "required")
            return None
        if len(value) > max_length:
            self.error(column, _("%(max)d文字以内で入力してください。") % {"max": max_length}, "too_long")
            return None
        return value

    def user_code(self) -> str | None:
        raw = self.text(USER_CODE, max_length=50, required=True)
        if raw is None:
            return None
        try:
            value = user_code_clean(raw)
        except DomainError as refused:  # the screens' rule; the row's message names the column already
            self.error(USER_CODE, _("英大文字・数字5文字で入力してください。"), refused.code)
            return None
        self.user_code_read = value
        return value

    def identifier(self) -> str | None:
        raw = self.text(IDENTIFIER, max_length=50, required=True)
        if raw is None:
            return None
        value = normalise_identifier(raw)
        if not IDENTIFIER_RE.fullmatch(value):
            self.error(IDENTIFIER, _("英大文字・数字3文字で入力してください。"), "identifier_shape")
            return None
        return value

    def method_codes(self, known: dict[str, ProcessingMethod], *, single: bool) -> frozenset[str] | None:
        raw = self.text(PROCESSING_METHOD, max_length=200, required=True)
        if raw is None:
            return None
        codes = [code for code in METHOD_SEPARATORS.split(unicodedata.normalize("NFKC", raw).lower()) if code]
        if not codes:
            self.error(PROCESSING_METHOD, _("入力してください。"), "required")
            return None
        unknown = [code for code in codes if code not in known]
        if unknown:
            self.error(
                PROCESSING_METHOD,
                _("処理方式「%(codes)s」はありません（使えるのは %(known)s）。")
                % {"codes": "、".join(unknown), "known": ", ".join(known)},
                "method_unknown",
            )
            return None
        if single and len(set(codes)) != 1:
            self.error(PROCESSING_METHOD, _("処理方式は1つだけ入力してください。"), "method_not_single")
            return None
        return frozenset(codes)

    def date(self, column: str) -> datetime.date | None:
        """A date as Excel writes it or a person types it: 2026-04-01, 2026/04/01, 2026/4/1 (full width too)."""
        raw = self.text(column, max_length=50)
        if not raw:
            return None
        match = DATE_RE.fullmatch(unicodedata.normalize("NFKC", raw))
        try:
            if match:
                return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
        self.error(
            column,
            _("年-月-日または年/月/日（例：2026-04-01、2026/4/1）の実在する日付で入力してください。"),
            "date",
        )
        return None

    def flag(self, column: str) -> bool | None:
        raw = self.text(column, max_length=50)
        if raw is None:
            return None
        value = unicodedata.normalize("NFKC", raw)
        if value in {"", "0"}:
            return False
        if value == "1":
            return True
        self.error(column, _("1（通関士ID）または0か空欄（通関士IDではない）で入力してください。"), "flag")
        return None

    def phone(self) -> str | None:
        raw = self.text(PHONE, max_length=50)
        if not raw:
            return raw
        value = rules.normalise_phone(raw)
        try:
            rules.PHONE_VALIDATOR(value)
        except ValidationError as error:
            self.error(PHONE, error.messages[0], "phone")
            return None
        return value

    def email(self) -> str | None:
        value = self.text(EMAIL, max_length=_max_length(User, "email"), required=True)
        if value is None:
            return None
        try:
            validate_email(value)
        except ValidationError:
            self.error(
                EMAIL, _("メールアドレスの形式が正しくありません（例：taro@example.co.jp）。"), "email"
            )
            return None
        return value

    def username(self) -> str | None:
        raw = self.text(USERNAME, max_length=150, required=True)
        if raw is None:
            return None
        value = normalise_username(raw)
        if not is_valid_username(value):
            self.error(USERNAME, USERNAME_MESSAGE, "username_shape")
            return None
        return value


def _contract_record(
    row: _Row, methods: dict[str, ProcessingMethod]
) -> tuple[str | None, _ContractRecord | None]:
    user_code = row.user_code()
    company_name = row.text(COMPANY_NAME, max_length=_max_length(Contract, "company_name"), required=True)
    office_name = row.text(OFFICE_NAME, max_length=_max_length(Contract, "office_name"), required=True)
    department = row.text(DEPARTMENT, max_length=_max_length(Contract, "department"))
    address = row.text(ADDRESS, max_length=_max_length(Contract, "address"))
    method_codes = row.method_codes(methods, single=False)
    if not row.ok:
        return user_code, None
    return user_code, _ContractRecord(
        row.number, user_code, company_name, office_name, department, address, method_codes
    )


def _naccs_user_id_record(
    row: _Row, methods: dict[str, ProcessingMethod]
) -> tuple[tuple[str, str] | None, _NaccsUserIdRecord | None]:
    user_code = row.user_code()
    identifier = row.identifier()
    method_codes = row.method_codes(methods, single=True)
    is_customs_broker = row.flag(CUSTOMS_BROKER)
    broker_name = row.text(BROKER_NAME, max_length=200)
    if broker_name:
        broker_name = rules.normalise_broker_name(broker_name)
        maximum = _max_length(NaccsUserId, "broker_name")
        if len(broker_name) > maximum:
            row.error(BROKER_NAME, _("%(max)d文字以内で入力してください。") % {"max": maximum}, "too_long")
    start_date = row.date(START_DATE)
    revoked_on = row.date(REVOKED_ON)
    if revoked_on and revoked_on > clock.today():
        # The UTB gateway refuses a revoked ID from the moment it has a 廃止日時: a future date would revoke it now.
        row.error(REVOKED_ON, _("今日より後の日付は指定できません。"), "revoked_in_future")
    key = (user_code, identifier) if user_code and identifier else None
    if not row.ok:
        return key, None
    (method_code,) = method_codes
    return key, _NaccsUserIdRecord(
        row.number,
        user_code,
        identifier,
        method_code,
        is_customs_broker,
        broker_name,
        start_date,
        revoked_on,
    )


def _account_record(row: _Row) -> tuple[str | None, _AccountRecord | None]:
    user_code = row.user_code()
    username = row.username()
    full_name = row.text(FULL_NAME, max_length=_max_length(User, "full_name"))
    department = row.text(DEPARTMENT, max_length=_max_length(User, "department"))
    phone = row.phone()
    email = row.email()
    if not row.ok:
        return username, None
    return username, _AccountRecord(
        row.number, user_code, username, " ".join(full_name.split()), department, phone, email
    )


# --- reading every row ---------------------------------------------------------------------------------------


@dataclass
class _Records:
    """The rows of the file without errors, and the keys of every row that had a readable key."""

    contracts: list[_ContractRecord] = field(default_factory=list)
    naccs_user_ids: list[_NaccsUserIdRecord] = field(default_factory=list)
    accounts: list[_AccountRecord] = field(default_factory=list)
    # 利用者コード of every 契約 row whose code could be read, with or without other errors.
    contract_codes: set[str] = field(default_factory=set)
    # (row, 利用者コード) of every 利用者ID and アカウント row whose code could be read, with or without other errors.
    references: list[tuple[int, str]] = field(default_factory=list)


def _read(
    rows: Iterable[Sequence[str]], methods: dict[str, ProcessingMethod], report: ImportReport
) -> _Records:
    records = _Records()
    rows = iter(rows)
    header = next(rows, None)
    if header is None:
        report.error(None, None, _("ファイルが空です。"), "empty")
        return records
    positions = _header_positions(header, report)
    if positions is None:
        return records
    first_row: dict[tuple, int] = {}
    width = len(header)
    for number, cells in enumerate(rows, start=2):
        cells = ["" if cell is None else str(cell) for cell in cells]
        if not any(cell.strip() for cell in cells):
            continue
        report.rows += 1
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            report.error(number, None, _("見出しより列が多くなっています。"), "too_many_cells")
            continue
        cells += [""] * (width - len(cells))
        row = _Row(number, {column: cells[index] for column, index in positions.items()}, report)
        kind = _record_kind(row)
        if kind is None:
            continue
        for column in COLUMNS:
            if column not in COLUMNS_USED[kind] and row.cells[column].strip():
                row.error(
                    column, _("種別「%(kind)s」の行では空欄にしてください。") % {"kind": kind}, "unused"
                )
        if kind == KIND_CONTRACT:
            key, record = _contract_record(row, methods)
            if key:
                records.contract_codes.add(key)
                _once(row, ("contract", key), first_row, USER_CODE, key)
            if record and row.ok:
                records.contracts.append(record)
        elif kind == KIND_NACCS_USER_ID:
            key, record = _naccs_user_id_record(row, methods)
            if key:
                _once(row, ("naccs_user_id", *key), first_row, IDENTIFIER, "".join(key))
            if record and row.ok:
                records.naccs_user_ids.append(record)
        else:
            key, record = _account_record(row)
            if key:
                _once(row, ("account", key), first_row, USERNAME, key)
            if record and row.ok:
                records.accounts.append(record)
        if kind != KIND_CONTRACT and row.user_code_read:
            records.references.append((row.number, row.user_code_read))
    return records


def _header_positions(header: Sequence[str], report: ImportReport) -> dict[str, int] | None:
    names = [("" if name is None else str(name)).strip() for name in header]
    if names:
        names[0] = names[0].lstrip("\ufeff").strip()  # rows read elsewhere may keep the UTF-8 BOM
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            continue
        if name not in COLUMNS:
            shown = name[:40] if _text_problem(name) is None else ascii(name[:40])
            report.error(
                1, None, _("列「%(column)s」はこの形式にありません。") % {"column": shown}, "header_unknown"
            )
        elif name in positions:
            report.error(1, None, _("列「%(column)s」が2回あります。") % {"column": name}, "header_repeated")
        else:
            positions[name] = index
    for column in COLUMNS:
        if column not in positions:
            report.error(1, None, _("列「%(column)s」がありません。") % {"column": column}, "header_missing")
    return None if report.errors else positions


def _record_kind(row: _Row) -> str | None:
    raw = row.cells[KIND]
    problem = _text_problem(raw)
    if problem:
        row.error(KIND, problem, "text")
        return None
    kind = unicodedata.normalize("NFKC", raw).strip().upper()
    if kind not in COLUMNS_USED:
        row.error(
            KIND,
            _("「%(contract)s」「%(naccs_user_id)s」「%(account)s」のいずれかを入力してください。")
            % {"contract": KIND_CONTRACT, "naccs_user_id": KIND_NACCS_USER_ID, "account": KIND_ACCOUNT},
            "kind",
        )
        return None
    return kind


def _once(row: _Row, key: tuple, first_row: dict[tuple, int], column: str, shown: str) -> None:
    """A key (contract, ID, account) appears once in the file; a later row with it is an error."""
    if key in first_row:
        row.error(
            column,
            _("%(key)sは%(row)d行目と重複しています。") % {"key": shown, "row": first_row[key]},
            "repeated",
        )
    else:
        first_row[key] = row.number


# --- comparing with the database -----------------------------------------------------------------------------


def _chunks(values: Sequence) -> Iterator[Sequence]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _unusable_password() -> str:
    """What Django's make_password(None) gives — its "!" prefix, which no password ever matches, and 40 random
    characters — from one call to the OS's CSPRNG instead of 40 (a tenth of a large import's time went there)."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(20)


@dataclass
class _Plan:
    contracts: dict[str, Contract]  # by 利用者コード: those in the database, then the new ones
    contracts_new: list[Contract] = field(default_factory=list)
    contracts_changed: list[Contract] = field(default_factory=list)
    methods_add: list[tuple[str, int]] = field(default_factory=list)  # (利用者コード, processing method id)
    methods_remove: list[int] = field(default_factory=list)  # ids of rows of the many-to-many table
    naccs_user_ids_new: list[tuple[str, NaccsUserId]] = field(default_factory=list)
    naccs_user_ids_changed: list[NaccsUserId] = field(default_factory=list)
    accounts_new: list[tuple[str, User]] = field(default_factory=list)
    accounts_changed: list[User] = field(default_factory=list)
    # What each contract's audit entry says: {利用者コード: (changes, details)}.
    audit: dict[str, tuple[dict, dict]] = field(default_factory=dict)

    def audit_of(self, user_code: str) -> tuple[dict, dict]:
        return self.audit.setdefault(user_code, ({}, {}))


@dataclass
class _Existing:
    """The rows of the database the file names, read CHUNK keys per query."""

    contracts: dict[str, Contract] = field(default_factory=dict)  # by 利用者コード
    links: dict[int, dict[int, int]] = field(default_factory=dict)  # contract id → {method id: link row id}
    naccs_user_ids: dict[tuple[int, str], NaccsUserId] = field(
        default_factory=dict
    )  # (contract id, 識別番号)
    ids_of_contract: dict[int, list[NaccsUserId]] = field(default_factory=dict)
    accounts: dict[str, list[User]] = field(default_factory=dict)  # by lower-case username


def _existing(records: _Records, *, lock: bool) -> _Existing:
    """Every contract the file names (with its processing methods and all its IDs) and every account it names,
    whatever the case of the stored username. Locked (FOR NO KEY UPDATE) when the import is going to write."""

    def locked(queryset):
        return queryset.select_for_update(no_key=True) if lock else queryset

    through = Contract.processing_methods.through
    existing = _Existing(
        links=defaultdict(dict), ids_of_contract=defaultdict(list), accounts=defaultdict(list)
    )
    codes = sorted(records.contract_codes | {user_code for _row, user_code in records.references})
    for chunk in _chunks(codes):
        existing.contracts.update(
            (contract.user_code, contract)
            for contract in locked(Contract.objects.filter(user_code__in=chunk))
        )
    for chunk in _chunks(sorted(contract.pk for contract in existing.contracts.values())):
        for link_id, contract_id, method_id in through.objects.filter(contract_id__in=chunk).values_list(
            "pk", "contract_id", "processingmethod_id"
        ):
            existing.links[contract_id][method_id] = link_id
        for naccs_id in locked(
            NaccsUserId.objects.filter(contract_id__in=chunk).only(
                "contract_id", "identifier", "issued_by_id", *NACCS_USER_ID_FIELDS
            )
        ):
            existing.naccs_user_ids[naccs_id.contract_id, naccs_id.identifier] = naccs_id
            existing.ids_of_contract[naccs_id.contract_id].append(naccs_id)
    for chunk in _chunks(sorted({record.username for record in records.accounts})):
        for account in locked(
            User.objects.annotate(username_lower=Lower("username"))
            .filter(username_lower__in=chunk)
            .only("username", "contract_id", "is_staff", "is_superuser", *ACCOUNT_FIELDS)
        ):
            existing.accounts[account.username_lower].append(account)
    return existing


def _plan(
    records: _Records, methods: dict[str, ProcessingMethod], report: ImportReport, *, lock: bool
) -> _Plan:
    """What the import would write, from the records and the rows of the database they name; every conflict
    with the database is reported on its row."""
    method_codes_by_id = {method.pk: code for code, method in methods.items()}
    existing = _existing(records, lock=lock)
    contracts, links = existing.contracts, existing.links
    plan = _Plan(contracts=dict(contracts))
    # The processing methods each contract will have: the file's for a contract in it, else the database's.
    methods_after: dict[str, set[int]] = {
        code: set(links[contract.pk]) for code, contract in contracts.items()
    }
    for record in records.contracts:
        methods_after[record.user_code] = {methods[code].pk for code in record.method_codes}
    valid = {record.user_code for record in records.contracts}
    for code in records.contract_codes - valid:
        methods_after.pop(code, None)  # its 契約 row has errors: what it will have is unknown

    # A processing method taken off a contract must not leave one of its live IDs (not named in the file) on it.
    in_file = {(record.user_code, record.identifier) for record in records.naccs_user_ids}
    refused: set[int] = set()  # rows of 契約 records refused here
    for record in records.contracts:
        contract = contracts.get(record.user_code)
        if contract is None:
            continue
        allowed = methods_after[record.user_code]
        stranded: dict[str, list[str]] = defaultdict(list)
        for naccs_id in existing.ids_of_contract[contract.pk]:
            if (
                (record.user_code, naccs_id.identifier) not in in_file
                and naccs_id.revoked_at is None
                and naccs_id.processing_method_id not in allowed
            ):
                stranded[method_codes_by_id[naccs_id.processing_method_id]].append(
                    record.user_code + naccs_id.identifier
                )
        for method_code, user_ids in sorted(stranded.items()):
            refused.add(record.row)
            user_ids.sort()
            report.error(
                record.row,
                PROCESSING_METHOD,
                _("利用者ID %(user_ids)sが処理方式%(method)sを使っているため、契約から外せません。")
                % {
                    "user_ids": "、".join(user_ids[:5]) + ("…" if len(user_ids) > 5 else ""),
                    "method": method_code,
                },
                "method_in_use",
            )

    _plan_contracts(
        plan,
        [r for r in records.contracts if r.row not in refused],
        methods,
        method_codes_by_id,
        links,
        report,
    )

    unknown = set()
    for row, user_code in records.references:
        if user_code not in records.contract_codes and user_code not in contracts:
            unknown.add(user_code)
            report.error(
                row,
                USER_CODE,
                _("%(user_code)sの契約がこのファイルにもデータベースにもありません。")
                % {"user_code": user_code},
                "contract_unknown",
            )

    for record in records.naccs_user_ids:
        if record.user_code in unknown:
            continue
        method_id = methods[record.method_code].pk
        allowed = methods_after.get(record.user_code)
        if record.revoked_on is None and allowed is not None and method_id not in allowed:
            report.error(
                record.row,
                PROCESSING_METHOD,
                _("処理方式%(method)sは利用者コード%(user_code)sの契約にありません。")
                % {"method": record.method_code, "user_code": record.user_code},
                "method_not_in_contract",
            )
            continue
        contract = contracts.get(record.user_code)
        naccs_id = existing.naccs_user_ids.get((contract.pk, record.identifier)) if contract else None
        _plan_naccs_user_id(plan, record, naccs_id, methods, method_codes_by_id, report)

    _plan_accounts(plan, records, existing.accounts, unknown, report)
    return plan


def _plan_contracts(
    plan: _Plan, records: list[_ContractRecord], methods, method_codes_by_id, links, report: ImportReport
) -> None:
    for record in records:
        values = {name: getattr(record, name) for name in CONTRACT_FIELDS}
        method_ids = {methods[code].pk for code in record.method_codes}
        contract = plan.contracts.get(record.user_code)
        if contract is None:
            contract = Contract(user_code=record.user_code, **values)
            plan.contracts[record.user_code] = contract
            plan.contracts_new.append(contract)
            plan.methods_add.extend((record.user_code, method_id) for method_id in sorted(method_ids))
            changes, details = plan.audit_of(record.user_code)
            changes.update({name: [None, value] for name, value in values.items()})
            changes["processing_methods"] = [[], sorted(record.method_codes)]
            details["contract"] = "created"
            report.contracts.created += 1
            continue
        changes = {
            name: [getattr(contract, name), value]
            for name, value in values.items()
            if getattr(contract, name) != value
        }
        if changes:
            for name in changes:
                setattr(contract, name, values[name])
            plan.contracts_changed.append(contract)
        old_methods = links[contract.pk]  # {method id: link row id}
        if set(old_methods) != method_ids:
            changes["processing_methods"] = [
                sorted(method_codes_by_id[pk] for pk in old_methods),
                sorted(record.method_codes),
            ]
            plan.methods_add.extend((record.user_code, pk) for pk in sorted(method_ids - set(old_methods)))
            plan.methods_remove.extend(old_methods[pk] for pk in sorted(set(old_methods) - method_ids))
        if not changes:
            report.contracts.unchanged += 1
            continue
        audit_changes, details = plan.audit_of(record.user_code)
        audit_changes.update(changes)
        details["contract"] = "updated"
        report.contracts.updated += 1


def _revoked_at(day: datetime.date | None) -> datetime.datetime | None:
    """廃止日 → 廃止日時: the start of that day in Japan."""
    return None if day is None else datetime.datetime.combine(day, datetime.time.min, tzinfo=clock.JST)


def _revoked_on(moment: datetime.datetime | None) -> datetime.date | None:
    return None if moment is None else clock.local_date(moment)


def _plan_naccs_user_id(
    plan: _Plan,
    record: _NaccsUserIdRecord,
    existing: NaccsUserId | None,
    methods: dict[str, ProcessingMethod],
    method_codes_by_id: dict[int, str],
    report: ImportReport,
) -> None:
    method = methods[record.method_code]
    if existing is None:
        naccs_id = NaccsUserId(
            identifier=record.identifier,
            processing_method_id=method.pk,
            is_customs_broker=record.is_customs_broker,
            broker_name=record.broker_name,
            start_date=record.start_date,
            revoked_at=_revoked_at(record.revoked_on),
            # An existing ID: its password is the office's, unknown here. No initial password, no usable hash.
            password_hash=_unusable_password(),
            initial_password_encrypted="",
        )
        plan.naccs_user_ids_new.append((record.user_code, naccs_id))
        plan.audit_of(record.user_code)[1].setdefault("naccs_user_ids_created", []).append(
            record.naccs_user_id
        )
        report.naccs_user_ids.created += 1
        return
    changes = {}
    if existing.processing_method_id != method.pk:
        changes["processing_method"] = [method_codes_by_id[existing.processing_method_id], record.method_code]
    for name in ("is_customs_broker", "broker_name", "start_date"):
        if getattr(existing, name) != getattr(record, name):
            changes[name] = [getattr(existing, name), getattr(record, name)]
    if _revoked_on(existing.revoked_at) != record.revoked_on:
        changes["revoked_on"] = [_revoked_on(existing.revoked_at), record.revoked_on]
    if not changes:
        report.naccs_user_ids.unchanged += 1
        return
    if existing.issued_by_id is not None:
        report.error(
            record.row,
            IDENTIFIER,
            _("利用者ID %(user_id)sはこのポータルで払い出したIDのため、取込みでは変更できません。")
            % {"user_id": record.naccs_user_id},
            "issued_by_portal",
        )
        return
    existing.processing_method_id = method.pk
    existing.is_customs_broker = record.is_customs_broker
    existing.broker_name = record.broker_name
    existing.start_date = record.start_date
    if "revoked_on" in changes:
        existing.revoked_at = _revoked_at(record.revoked_on)
    plan.naccs_user_ids_changed.append(existing)
    plan.audit_of(record.user_code)[1].setdefault("naccs_user_ids_updated", {})[record.naccs_user_id] = (
        changes
    )
    report.naccs_user_ids.updated += 1


def _plan_accounts(
    plan: _Plan, records: _Records, accounts: dict[str, list[User]], unknown: set[str], report: ImportReport
) -> None:
    moved: list[tuple[_AccountRecord, User]] = []
    for record in records.accounts:
        if record.user_code in unknown:
            continue
        matches = accounts.get(record.username, [])
        existing = next((a for a in matches if a.username == record.username), None)
        if existing is None and len(matches) > 1:
            report.error(
                record.row,
                USERNAME,
                _("ユーザーID %(username)sと大文字・小文字だけが違うアカウントが複数あります。")
                % {"username": record.username},
                "username_ambiguous",
            )
            continue
        existing = existing or (matches[0] if matches else None)
        values = {name: getattr(record, name) for name in ACCOUNT_FIELDS}
        if existing is None:
            account = User(
                username=record.username,
                password=_unusable_password(),  # invited later: the person sets their own
                is_staff=False,
                is_superuser=False,
                **values,
            )
            plan.accounts_new.append((record.user_code, account))
            plan.audit_of(record.user_code)[1].setdefault("accounts_created", []).append(record.username)
            report.accounts.created += 1
            continue
        if existing.is_staff or existing.is_superuser or existing.contract_id is None:
            report.error(
                record.row,
                USERNAME,
                _(
                    "ユーザーID %(username)sは契約に属さないアカウント（NACCSセンターのスタッフなど）です。お客様のアカウントにはできません。"
                )
                % {"username": existing.username},
                "not_customer",
            )
            continue
        contract = plan.contracts.get(record.user_code)
        if contract is None or contract.pk is None or contract.pk != existing.contract_id:
            moved.append((record, existing))
            continue
        changes = {
            name: [getattr(existing, name), value]
            for name, value in values.items()
            if getattr(existing, name) != value
        }
        if not changes:
            report.accounts.unchanged += 1
            continue
        for name, value in values.items():
            setattr(existing, name, value)
        plan.accounts_changed.append(existing)
        plan.audit_of(record.user_code)[1].setdefault("accounts_updated", {})[existing.username] = changes
        report.accounts.updated += 1
    if moved:
        user_codes = _user_codes_of(sorted({account.contract_id for _record, account in moved}))
        for record, account in moved:
            report.error(
                record.row,
                USER_CODE,
                _(
                    "ユーザーID %(username)sは別の契約（利用者コード%(other)s）のアカウントです。取込みで契約を移すことはできません。"
                )
                % {"username": account.username, "other": user_codes.get(account.contract_id, "?")},
                "account_moved",
            )


def _user_codes_of(contract_ids: list[int]) -> dict[int, str]:
    user_codes = {}
    for chunk in _chunks(contract_ids):
        user_codes.update(Contract.objects.filter(pk__in=chunk).values_list("pk", "user_code"))
    return user_codes


# --- writing -------------------------------------------------------------------------------------------------


def _apply(plan: _Plan, *, actor: User | None) -> bool:
    """Write the plan with bulk statements (a few per CHUNK rows); returns whether anything changed."""
    through = Contract.processing_methods.through
    Contract.objects.bulk_create(plan.contracts_new, batch_size=CHUNK)
    if plan.contracts_changed:
        Contract.objects.bulk_update(plan.contracts_changed, CONTRACT_FIELDS, batch_size=CHUNK)
    contracts = plan.contracts
    for chunk in _chunks(plan.methods_remove):
        through.objects.filter(pk__in=chunk).delete()
    through.objects.bulk_create(
        [
            through(contract_id=contracts[user_code].pk, processingmethod_id=method_id)
            for user_code, method_id in plan.methods_add
        ],
        batch_size=CHUNK,
    )
    for user_code, naccs_id in plan.naccs_user_ids_new:
        naccs_id.contract = contracts[user_code]
    NaccsUserId.objects.bulk_create(
        [naccs_id for _code, naccs_id in plan.naccs_user_ids_new], batch_size=CHUNK
    )
    if plan.naccs_user_ids_changed:
        NaccsUserId.objects.bulk_update(plan.naccs_user_ids_changed, NACCS_USER_ID_FIELDS, batch_size=CHUNK)
    for user_code, account in plan.accounts_new:
        account.contract = contracts[user_code]
    User.objects.bulk_create([account for _code, account in plan.accounts_new], batch_size=CHUNK)
    if plan.accounts_changed:
        User.objects.bulk_update(plan.accounts_changed, ACCOUNT_FIELDS, batch_size=CHUNK)
    audit.record_many(
        (
            (contracts[user_code], changes, details)
            for user_code, (changes, details) in sorted(plan.audit.items())
        ),
        actor=actor,
        action="contract_import",
        batch_size=CHUNK,
    )
    return bool(plan.audit)


# --- the service ---------------------------------------------------------------------------------------------


def contracts_import(
    *,
    file: bytes | IO[bytes] | None = None,
    rows: Iterable[Sequence[str]] | None = None,
    dry_run: bool = False,
    actor: User | None = None,
) -> ImportReport:
    """Import contracts, their existing 利用者IDs and their customer accounts (SPEC §11 "Import"; the format is in
    this module's docstring and the README).

    Give `file` (the CSV as bytes or a binary file: UTF-8 with or without BOM, or Shift_JIS/CP932) or `rows` (the
    header row first, then the data rows, as lists of text). Every row is checked; the report lists every error
    with its row and column. With any error, or with `dry_run`, nothing is written and the counts say what the
    rows without errors would do. Otherwise everything is written in one transaction and each contract whose
    data, IDs or accounts changed gets one audit entry (action contract_import, by `actor`: None for the
    command). Running the same file again changes nothing and writes no audit entry."""
    if (file is None) == (rows is None):
        raise TypeError("contracts_import takes either file or rows")
    report = ImportReport(dry_run=dry_run)
    if file is not None:
        data = bytes(file) if isinstance(file, bytes | bytearray | memoryview) else file.read()
        try:
            text, report.encoding = decode(data)
        except _FileRefused as refused:
            report.error(None, None, refused.message, refused.code)
            return report
        rows = _csv_rows(text, report)
    methods = {method.code: method for method in ProcessingMethod.objects.order_by("sort_order", "code")}
    records = _read(rows, methods, report)
    try:
        with transaction.atomic():
            plan = _plan(records, methods, report, lock=not dry_run)
            report.errors.sort(key=_error_order)
            if report.ok and not dry_run:
                report.written = _apply(plan, actor=actor)
    except IntegrityError:
        # Another import or a staff member created the same contract, ID or account between our reads and writes.
        report.written = False
        report.error(
            None,
            None,
            _(
                "取込みの途中で別の処理が同じ契約・利用者ID・アカウントを登録しました。もう一度取り込んでください。"
            ),
            "concurrent_change",
        )
    return report


def _error_order(error: ImportRowError) -> tuple[int, int]:
    column = COLUMNS.index(error.column) if error.column in COLUMNS else -1
    return (error.row or 0, column)
