"""The contract import (SPEC §11 "Import"; applications/contract_import.py, `manage.py import_contracts`): one CSV
of contracts, their existing 利用者IDs and their customer accounts, in UTF-8 (with or without BOM) or Shift_JIS;
every error named by row and column and nothing written then; an idempotent upsert; a dry run that writes nothing;
bulk statements, not a query per row."""

import codecs
import csv
import datetime
import io
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth.hashers import is_password_usable
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from applications import clock, rules
from applications.contract_import import (
    ADDRESS,
    BROKER_NAME,
    COLUMNS,
    COMPANY_NAME,
    CUSTOMS_BROKER,
    DEPARTMENT,
    EMAIL,
    FULL_NAME,
    IDENTIFIER,
    KIND,
    OFFICE_NAME,
    PHONE,
    PROCESSING_METHOD,
    REVOKED_ON,
    START_DATE,
    USER_CODE,
    USERNAME,
    contracts_import,
    decode,
)
from applications.models import Contract, NaccsUserId, User
from tests.factories import (
    PASSWORD,
    ContractFactory,
    CustomerFactory,
    NaccsUserIdFactory,
    StaffFactory,
    ensure_processing_methods,
    submitted_application,
)

pytestmark = pytest.mark.django_db

SAMPLE = Path(settings.BASE_DIR) / "docs" / "samples" / "contracts.csv"


@pytest.fixture(autouse=True)
def _processing_methods(db):
    ensure_processing_methods()


# --- building files ------------------------------------------------------------------------------------------


def line(values: dict[str, str]) -> list[str]:
    return [values.get(column, "") for column in COLUMNS]


def contract_row(user_code="1ANAC", changes=None) -> list[str]:
    return line(
        {
            KIND: "契約",
            USER_CODE: user_code,
            COMPANY_NAME: "デモ通関株式会社",
            OFFICE_NAME: "東京事業所",
            DEPARTMENT: "通関部",
            ADDRESS: "東京都港区港南一丁目1番1号",
            PROCESSING_METHOD: "interactive netnaccs",
            **(changes or {}),
        }
    )


def id_row(user_code="1ANAC", identifier="A0A", changes=None) -> list[str]:
    return line(
        {
            KIND: "利用者ID",
            USER_CODE: user_code,
            IDENTIFIER: identifier,
            PROCESSING_METHOD: "interactive",
            CUSTOMS_BROKER: "1",
            BROKER_NAME: "山田 太郎",
            START_DATE: "2026-04-01",
            **(changes or {}),
        }
    )


def account_row(user_code="1ANAC", username="yamada", changes=None) -> list[str]:
    return line(
        {
            KIND: "アカウント",
            USER_CODE: user_code,
            USERNAME: username,
            FULL_NAME: "山田 花子",
            DEPARTMENT: "通関部",
            PHONE: "03-1234-5678",
            EMAIL: "yamada@example.co.jp",
            **(changes or {}),
        }
    )


def good_rows() -> list[list[str]]:
    """Row 2: the contract 1ANAC; rows 3–4: its IDs 1ANACA0A (interactive) and 1ANACY27 (netNACCS); row 5: its
    account yamada."""
    return [
        list(COLUMNS),
        contract_row(),
        id_row(),
        id_row(identifier="Y27", changes={PROCESSING_METHOD: "netnaccs", BROKER_NAME: "鈴木 次郎"}),
        account_row(),
    ]


def csv_bytes(rows, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def snapshot():
    """Everything the import may write, as plain values."""
    return (
        sorted(
            (
                c.user_code,
                c.company_name,
                c.office_name,
                c.department,
                c.address,
                tuple(sorted(m.code for m in c.processing_methods.all())),
            )
            for c in Contract.objects.prefetch_related("processing_methods")
        ),
        sorted(
            NaccsUserId.objects.values_list(
                "contract__user_code",
                "identifier",
                "processing_method__code",
                "is_customs_broker",
                "broker_name",
                "start_date",
                "revoked_at",
                "password_hash",
            )
        ),
        sorted(
            User.objects.values_list(
                "username",
                "contract__user_code",
                "full_name",
                "department",
                "phone",
                "email",
                "password",
                "is_active",
            )
        ),
        LogEntry.objects.count(),
    )


def counts(report) -> dict[str, tuple[int, int, int]]:
    return {
        "contracts": (report.contracts.created, report.contracts.updated, report.contracts.unchanged),
        "naccs_user_ids": (
            report.naccs_user_ids.created,
            report.naccs_user_ids.updated,
            report.naccs_user_ids.unchanged,
        ),
        "accounts": (report.accounts.created, report.accounts.updated, report.accounts.unchanged),
    }


def errors(report) -> list[tuple[int | None, str | None, str]]:
    return [(error.row, error.column, error.code) for error in report.errors]


# --- good files ----------------------------------------------------------------------------------------------


def test_a_utf8_file_creates_the_contract_its_existing_ids_and_its_accounts():
    report = contracts_import(file=csv_bytes(good_rows()))

    assert report.ok and report.written and report.encoding == "utf-8"
    assert counts(report) == {"contracts": (1, 0, 0), "naccs_user_ids": (2, 0, 0), "accounts": (1, 0, 0)}
    contract = Contract.objects.get(user_code="1ANAC")
    assert (contract.company_name, contract.office_name, contract.department, contract.address) == (
        "デモ通関株式会社",
        "東京事業所",
        "通関部",
        "東京都港区港南一丁目1番1号",
    )
    assert set(contract.processing_methods.values_list("code", flat=True)) == {"interactive", "netnaccs"}
    a0a, y27 = contract.naccs_user_ids.order_by("identifier")
    assert (a0a.identifier, a0a.processing_method.code, a0a.is_customs_broker, a0a.broker_name) == (
        "A0A",
        "interactive",
        True,
        "山田 太郎",
    )
    assert a0a.start_date == datetime.date(2026, 4, 1) and a0a.revoked_at is None
    assert (y27.identifier, y27.processing_method.code) == ("Y27", "netnaccs")
    for naccs_id in (a0a, y27):
        # An existing ID: no password the portal knows.
        assert naccs_id.initial_password_encrypted == ""
        assert naccs_id.password_hash and not is_password_usable(naccs_id.password_hash)
        assert naccs_id.issued_by is None
    account = User.objects.get(username="yamada")
    assert account.contract == contract and account.is_customer and account.is_active
    assert (account.full_name, account.department, account.phone, account.email) == (
        "山田 花子",
        "通関部",
        "03-1234-5678",
        "yamada@example.co.jp",
    )
    assert not account.has_usable_password()
    (entry,) = LogEntry.objects.all()
    assert entry.object_pk == str(contract.pk) and entry.actor is None
    assert entry.additional_data["action"] == "contract_import"
    assert entry.additional_data["naccs_user_ids_created"] == ["1ANACA0A", "1ANACY27"]
    assert entry.additional_data["accounts_created"] == ["yamada"]
    assert entry.changes["company_name"] == [None, "デモ通関株式会社"]


def test_a_utf8_file_with_a_bom_as_excel_writes_it_is_read_as_utf8_sig():
    report = contracts_import(file=codecs.BOM_UTF8 + csv_bytes(good_rows()))

    assert report.ok and report.encoding == "utf-8-sig"
    assert report.encoding_label == "UTF-8（BOMあり）"
    assert Contract.objects.get(user_code="1ANAC").company_name == "デモ通関株式会社"


def test_a_shift_jis_file_as_japanese_excel_writes_it_is_read_as_cp932():
    # 髙 and ① exist only in Microsoft's Shift_JIS (CP932), which Excel writes; plain shift_jis cannot encode them.
    rows = good_rows()
    rows[1] = contract_row(changes={COMPANY_NAME: "髙橋通関株式会社", OFFICE_NAME: "第①事業所"})
    rows[4] = account_row(changes={FULL_NAME: "髙橋 一郎"})
    with pytest.raises(UnicodeEncodeError):
        "髙①".encode("shift_jis")

    report = contracts_import(file=csv_bytes(rows, encoding="cp932"))

    assert report.ok and report.encoding == "cp932"
    contract = Contract.objects.get(user_code="1ANAC")
    assert (contract.company_name, contract.office_name) == ("髙橋通関株式会社", "第①事業所")
    assert User.objects.get(username="yamada").full_name == "髙橋 一郎"


def test_valid_utf8_is_read_as_utf8_even_when_the_same_bytes_would_also_be_valid_cp932():
    data = "東京,大阪".encode()
    assert data.decode("cp932") != "東京,大阪"  # mojibake, but no decoding error
    assert decode(data) == ("東京,大阪", "utf-8")
    assert decode("東京".encode("cp932")) == ("東京", "cp932")
    assert decode(codecs.BOM_UTF8 + data) == ("東京,大阪", "utf-8-sig")


def test_the_sample_file_in_docs_imports_without_errors_and_again_without_changes():
    first = contracts_import(file=SAMPLE.read_bytes())
    assert first.ok, [str(error) for error in first.errors]
    assert first.encoding == "utf-8-sig"
    assert counts(first) == {"contracts": (2, 0, 0), "naccs_user_ids": (5, 0, 0), "accounts": (3, 0, 0)}
    again = contracts_import(file=SAMPLE.read_bytes())
    assert counts(again) == {"contracts": (0, 0, 2), "naccs_user_ids": (0, 0, 5), "accounts": (0, 0, 3)}


def test_codes_typed_in_full_width_or_lower_case_are_folded_like_everywhere_else():
    rows = [
        list(COLUMNS),
        contract_row("１ａｎａｃ", {PROCESSING_METHOD: "ＩＮＴＥＲＡＣＴＩＶＥ、netnaccs"}),
        id_row(
            "1anac",
            "ａ０ａ",
            {
                KIND: "利用者ＩＤ",
                CUSTOMS_BROKER: "１",
                START_DATE: "２０２６／４／１",
                BROKER_NAME: "山田　太郎",
            },
        ),
        account_row("1AnAc", "ＹＡＭＡＤＡ", {PHONE: "０３－１２３４－５６７８"}),
    ]
    report = contracts_import(rows=rows)

    assert report.ok, [str(error) for error in report.errors]
    naccs_id = NaccsUserId.objects.get()
    assert naccs_id.naccs_user_id == "1ANACA0A"
    assert (naccs_id.start_date, naccs_id.broker_name) == (datetime.date(2026, 4, 1), "山田 太郎")
    account = User.objects.get()
    assert (account.username, account.phone) == ("yamada", "03-1234-5678")
    # The folded values are what is stored: the same file in its plain spelling changes nothing.
    plain = contracts_import(rows=[list(COLUMNS), contract_row(), id_row(), account_row()])
    assert counts(plain) == {"contracts": (0, 0, 1), "naccs_user_ids": (0, 0, 1), "accounts": (0, 0, 1)}


def test_rows_come_in_any_order_and_blank_rows_are_skipped_but_counted_in_row_numbers():
    rows = [
        list(COLUMNS),
        account_row(),
        [""] * len(COLUMNS),
        id_row(),
        [],
        contract_row(),
        id_row(identifier="!!"),
    ]
    report = contracts_import(rows=rows)
    assert errors(report) == [(7, IDENTIFIER, "identifier_shape")]
    report = contracts_import(rows=rows[:-1])
    assert report.ok and report.rows == 3


def test_an_id_or_an_account_may_name_a_contract_already_in_the_database():
    ContractFactory(user_code="2BDEF", methods=["interactive"])
    report = contracts_import(rows=[list(COLUMNS), id_row("2BDEF", "B01"), account_row("2BDEF", "osaka")])

    assert report.ok
    assert counts(report) == {"contracts": (0, 0, 0), "naccs_user_ids": (1, 0, 0), "accounts": (1, 0, 0)}
    assert NaccsUserId.objects.get().naccs_user_id == "2BDEFB01"
    assert User.objects.get(username="osaka").contract.user_code == "2BDEF"


def test_an_existing_account_is_found_whatever_the_case_of_its_stored_user_id():
    contracts_import(rows=[list(COLUMNS), contract_row()])
    CustomerFactory(username="Yamada", contract=Contract.objects.get())

    report = contracts_import(rows=[list(COLUMNS), account_row(username="yamada")])

    assert counts(report)["accounts"] == (0, 1, 0)
    assert list(User.objects.values_list("username", flat=True)) == ["Yamada"]


# --- bad files: every error names its row and column, and nothing is written ----------------------------------

BAD_CELLS = [
    # (what is wrong, its row number, the row replacing that row of good_rows, column, code)
    ("利用者コード of 4 characters", 5, account_row("1ANA"), USER_CODE, "user_code_shape"),
    ("利用者コード with a symbol", 3, id_row("1AN-C"), USER_CODE, "user_code_shape"),
    ("識別番号 of 2 characters", 3, id_row(identifier="A0"), IDENTIFIER, "identifier_shape"),
    ("識別番号 missing", 3, id_row(identifier=""), IDENTIFIER, "required"),
    (
        "unknown processing method",
        2,
        contract_row(changes={PROCESSING_METHOD: "interactive mail"}),
        PROCESSING_METHOD,
        "method_unknown",
    ),
    (
        "no processing method",
        2,
        contract_row(changes={PROCESSING_METHOD: " | "}),
        PROCESSING_METHOD,
        "required",
    ),
    (
        "two processing methods for one ID",
        3,
        id_row(changes={PROCESSING_METHOD: "interactive netnaccs"}),
        PROCESSING_METHOD,
        "method_not_single",
    ),
    ("a date that does not exist", 3, id_row(changes={START_DATE: "2026/2/30"}), START_DATE, "date"),
    ("a date in another format", 3, id_row(changes={START_DATE: "2026年4月1日"}), START_DATE, "date"),
    (
        "a 廃止日 in the future",
        3,
        id_row(changes={REVOKED_ON: "2999-01-01"}),
        REVOKED_ON,
        "revoked_in_future",
    ),
    ("通関士ID neither 1 nor 0", 3, id_row(changes={CUSTOMS_BROKER: "はい"}), CUSTOMS_BROKER, "flag"),
    ("an e-mail address without domain", 5, account_row(changes={EMAIL: "yamada@"}), EMAIL, "email"),
    ("an account without e-mail address", 5, account_row(changes={EMAIL: ""}), EMAIL, "required"),
    ("a phone number with letters", 5, account_row(changes={PHONE: "03-1234-ABCD"}), PHONE, "phone"),
    ("a ユーザーID of 2 characters", 5, account_row(username="ab"), USERNAME, "username_shape"),
    ("a ユーザーID with a space inside", 5, account_row(username="yama da"), USERNAME, "username_shape"),
    ("no company name", 2, contract_row(changes={COMPANY_NAME: "  "}), COMPANY_NAME, "required"),
    (
        "a zero-width space in the company name",
        2,
        contract_row(changes={COMPANY_NAME: "デモ\u200b通関"}),
        COMPANY_NAME,
        "text",
    ),
    (
        "a control character in the office name",
        2,
        contract_row(changes={OFFICE_NAME: "東京\x07"}),
        OFFICE_NAME,
        "text",
    ),
    ("a line break in the address", 2, contract_row(changes={ADDRESS: "東京都\n港区"}), ADDRESS, "text"),
    (
        "a bidi override in the broker name",
        3,
        id_row(changes={BROKER_NAME: "山田\u202e太郎"}),
        BROKER_NAME,
        "text",
    ),
    ("a department too long", 2, contract_row(changes={DEPARTMENT: "部" * 101}), DEPARTMENT, "too_long"),
    ("a broker name too long", 3, id_row(changes={BROKER_NAME: "名" * 61}), BROKER_NAME, "too_long"),
    ("an unknown 種別", 5, account_row(changes={KIND: "アカウンド"}), KIND, "kind"),
    (
        "a cell the 種別 does not use",
        3,
        id_row(changes={COMPANY_NAME: "デモ通関株式会社"}),
        COMPANY_NAME,
        "unused",
    ),
    ("an ID of a contract nowhere", 3, id_row("9ZZZZ"), USER_CODE, "contract_unknown"),
    ("an account of a contract nowhere", 5, account_row("9ZZZZ"), USER_CODE, "contract_unknown"),
    (
        "an ID whose method the contract lacks",
        2,
        contract_row(changes={PROCESSING_METHOD: "netnaccs"}),
        None,
        None,
    ),
    # A sixth row repeating a key of the file (written differently): the later row is the wrong one.
    ("the same contract twice", 6, contract_row("1anac"), USER_CODE, "repeated"),
    ("the same ID twice", 6, id_row(identifier="y27"), IDENTIFIER, "repeated"),
    ("the same account twice", 6, account_row(username="YAMADA"), USERNAME, "repeated"),
]


@pytest.mark.parametrize(
    ("row", "replacement", "column", "code"),
    [case[1:] for case in BAD_CELLS],
    ids=[case[0] for case in BAD_CELLS],
)
def test_a_wrong_cell_is_reported_with_its_row_and_column_and_nothing_is_written(
    row, replacement, column, code
):
    before = snapshot()
    rows = good_rows()
    if row == len(rows) + 1:
        rows.append(replacement)
    else:
        rows[row - 1] = replacement
    if column is None:
        # The contract has only netNACCS now: its interactive ID in row 3 is what is wrong.
        row, column, code = 3, PROCESSING_METHOD, "method_not_in_contract"

    report = contracts_import(rows=rows)

    assert errors(report) == [(row, column, code)], [str(error) for error in report.errors]
    assert str(report.errors[0]).startswith(f"{row}行目 {column}：")
    assert not report.written
    assert snapshot() == before


def test_the_message_names_the_row_and_the_column_as_the_operator_reads_them():
    rows = good_rows()
    rows[2] = id_row("1ana")
    (error,) = contracts_import(rows=rows).errors
    assert str(error) == "3行目 利用者コード：英大文字・数字5文字で入力してください。"
    rows = good_rows()
    rows.insert(2, contract_row())
    (error,) = contracts_import(rows=rows).errors
    assert str(error) == "3行目 利用者コード：1ANACは2行目と重複しています。"


def test_every_error_of_the_file_is_listed_not_only_the_first():
    rows = good_rows()
    rows[1] = contract_row(changes={COMPANY_NAME: "", OFFICE_NAME: ""})
    rows[2] = id_row(identifier="A", changes={START_DATE: "tomorrow"})
    rows[4] = account_row(changes={EMAIL: "nobody"})

    report = contracts_import(rows=rows)

    assert errors(report) == [
        (2, COMPANY_NAME, "required"),
        (2, OFFICE_NAME, "required"),
        (3, IDENTIFIER, "identifier_shape"),
        (3, START_DATE, "date"),
        (5, EMAIL, "email"),
    ]
    assert report.summary_lines()[-1] == "エラーが5件あるため、何も取り込んでいません。"
    assert Contract.objects.count() == 0 and User.objects.count() == 0


def test_a_header_missing_a_column_or_with_an_unknown_or_repeated_one_is_refused_before_any_row():
    header = [column for column in COLUMNS if column != EMAIL] + ["備考", KIND]
    report = contracts_import(rows=[header, contract_row()])
    assert [str(error) for error in report.errors] == [
        "1行目：列「備考」はこの形式にありません。",
        "1行目：列「種別」が2回あります。",
        "1行目：列「メールアドレス」がありません。",
    ]
    assert Contract.objects.count() == 0


def test_columns_may_come_in_any_order():
    order = list(reversed(COLUMNS))
    rows = [[dict(zip(COLUMNS, row, strict=True))[column] for column in order] for row in good_rows()]
    report = contracts_import(rows=rows)
    assert report.ok and counts(report)["naccs_user_ids"] == (2, 0, 0)


def test_a_row_longer_than_the_header_is_refused():
    rows = good_rows()
    rows[4] = [*account_row(), "", "余分"]
    assert errors(contracts_import(rows=rows)) == [(5, None, "too_many_cells")]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (codecs.BOM_UTF8 + "種別".encode("cp932"), "encoding"),
        ("種別,利用者コード".encode("utf-16"), "utf16"),
        (b"", "empty"),
    ],
    ids=["BOM but not UTF-8", "UTF-16", "empty"],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(data, code):
    report = contracts_import(file=data)
    assert errors(report) == [(None, None, code)]


def test_an_unclosed_quote_is_reported_and_nothing_is_written():
    data = csv_bytes(good_rows()) + '契約,2BDEF,"第二通関,大阪,,,interactive'.encode() + b"\r\n" * 3
    data += ("x" * 140_000).encode()  # past the csv module's field limit inside the open quote
    report = contracts_import(file=data)
    assert errors(report) == [(6, None, "csv")]
    assert Contract.objects.count() == 0


# --- the database: accounts never move, the portal's own IDs are kept, methods in use stay --------------------


def test_an_account_is_never_moved_silently_to_another_contract():
    CustomerFactory(username="yamada", contract=ContractFactory(user_code="2BDEF"))
    before = snapshot()

    report = contracts_import(rows=good_rows())

    assert errors(report) == [(5, USER_CODE, "account_moved")]
    assert "2BDEF" in str(report.errors[0])
    assert snapshot() == before


def test_an_account_of_a_contract_created_by_the_same_file_cannot_be_an_existing_one():
    contracts_import(rows=[list(COLUMNS), contract_row("2BDEF"), account_row("2BDEF")])
    assert errors(contracts_import(rows=good_rows())) == [(5, USER_CODE, "account_moved")]


def test_a_staff_account_cannot_become_a_customer_account():
    StaffFactory(username="yamada")
    report = contracts_import(rows=good_rows())
    assert errors(report) == [(5, USERNAME, "not_customer")]
    assert not Contract.objects.exists()


def test_an_existing_accounts_password_and_state_are_left_as_they_are():
    contracts_import(rows=[list(COLUMNS), contract_row()])
    account = CustomerFactory(username="yamada", contract=Contract.objects.get(), is_active=False)
    password = account.password

    report = contracts_import(rows=[list(COLUMNS), account_row(changes={PHONE: "03-9999-0000"})])

    assert counts(report)["accounts"] == (0, 1, 0)
    account.refresh_from_db()
    assert account.phone == "03-9999-0000"
    assert account.password == password and account.check_password(PASSWORD) and not account.is_active


def test_a_processing_method_cannot_be_taken_off_a_contract_while_a_live_id_uses_it():
    contracts_import(rows=good_rows())
    narrower = contract_row(changes={PROCESSING_METHOD: "interactive"})

    report = contracts_import(rows=[list(COLUMNS), narrower])
    assert errors(report) == [(2, PROCESSING_METHOD, "method_in_use")]
    assert "1ANACY27" in str(report.errors[0])
    assert counts(report)["contracts"] == (0, 0, 0)

    # Revoking the ID in the same file lets the method go.
    revoked = id_row(
        identifier="Y27",
        changes={PROCESSING_METHOD: "netnaccs", BROKER_NAME: "鈴木 次郎", REVOKED_ON: "2026/3/31"},
    )
    report = contracts_import(rows=[list(COLUMNS), narrower, revoked])
    assert report.ok, [str(error) for error in report.errors]
    y27 = NaccsUserId.objects.get(identifier="Y27")
    assert y27.revoked_at == datetime.datetime(2026, 3, 31, tzinfo=clock.JST)
    assert list(Contract.objects.get().processing_methods.values_list("code", flat=True)) == ["interactive"]


def test_an_id_the_portal_issued_is_not_changed_by_an_import(freeze):
    contract = ContractFactory(user_code="1ANAC")
    application = submitted_application(contract=contract)
    NaccsUserIdFactory(contract=contract, identifier="A0A", issued_by=application, broker_name="山田 太郎")
    rows = [list(COLUMNS), contract_row(), id_row()]
    assert contracts_import(rows=rows).ok  # the same values: nothing to change

    rows[2] = id_row(changes={START_DATE: "2026-05-01"})
    report = contracts_import(rows=rows)

    assert errors(report) == [(3, IDENTIFIER, "issued_by_portal")]
    assert NaccsUserId.objects.get().start_date == datetime.date(2026, 4, 1)


def test_a_contract_created_by_someone_else_during_the_import_is_reported_and_nothing_is_written(monkeypatch):
    from applications import contract_import

    read = contract_import._existing

    def read_then_someone_else_creates_1anac(records, *, lock):
        existing = read(records, lock=lock)
        ContractFactory(user_code="1ANAC")
        return existing

    monkeypatch.setattr(contract_import, "_existing", read_then_someone_else_creates_1anac)

    report = contracts_import(rows=good_rows())

    assert errors(report) == [(None, None, "concurrent_change")]
    assert not report.written
    assert not NaccsUserId.objects.exists() and not User.objects.exists()


# --- idempotence, updates, dry runs --------------------------------------------------------------------------


def test_running_the_same_file_again_changes_nothing_and_adds_no_audit_entry():
    data = csv_bytes(good_rows())
    contracts_import(file=data)
    before = snapshot()

    report = contracts_import(file=data)

    assert report.ok and not report.written
    assert counts(report) == {"contracts": (0, 0, 1), "naccs_user_ids": (0, 0, 2), "accounts": (0, 0, 1)}
    assert report.summary_lines()[-1] == "変更はありません。"
    assert snapshot() == before


def test_a_changed_company_name_is_one_update_with_one_audit_entry():
    contracts_import(rows=good_rows())
    entries = LogEntry.objects.count()
    rows = good_rows()
    rows[1] = contract_row(changes={COMPANY_NAME: "デモ通関ホールディングス株式会社"})

    report = contracts_import(rows=rows, actor=None)

    assert counts(report) == {"contracts": (0, 1, 0), "naccs_user_ids": (0, 0, 2), "accounts": (0, 0, 1)}
    assert Contract.objects.get().company_name == "デモ通関ホールディングス株式会社"
    assert LogEntry.objects.count() == entries + 1
    entry = LogEntry.objects.latest("pk")
    assert entry.changes == {"company_name": ["デモ通関株式会社", "デモ通関ホールディングス株式会社"]}
    assert entry.additional_data == {"action": "contract_import", "contract": "updated"}


def test_changed_ids_and_accounts_are_updated_and_audited_on_their_contract():
    contracts_import(rows=good_rows())
    rows = good_rows()
    rows[2] = id_row(changes={CUSTOMS_BROKER: "0", START_DATE: "2026/5/1"})
    rows[4] = account_row(changes={EMAIL: "hanako@example.co.jp"})

    report = contracts_import(rows=rows)

    assert counts(report) == {"contracts": (0, 0, 1), "naccs_user_ids": (0, 1, 1), "accounts": (0, 1, 0)}
    a0a = NaccsUserId.objects.get(identifier="A0A")
    assert (a0a.is_customs_broker, a0a.start_date) == (False, datetime.date(2026, 5, 1))
    assert User.objects.get().email == "hanako@example.co.jp"
    details = LogEntry.objects.latest("pk").additional_data
    assert details["naccs_user_ids_updated"] == {
        "1ANACA0A": {"is_customs_broker": [True, False], "start_date": ["2026-04-01", "2026-05-01"]}
    }
    assert details["accounts_updated"] == {
        "yamada": {"email": ["yamada@example.co.jp", "hanako@example.co.jp"]}
    }


def test_a_dry_run_counts_what_would_change_and_writes_nothing():
    report = contracts_import(file=csv_bytes(good_rows()), dry_run=True)
    assert report.ok and not report.written
    assert counts(report) == {"contracts": (1, 0, 0), "naccs_user_ids": (2, 0, 0), "accounts": (1, 0, 0)}
    assert report.summary_lines()[-1] == "試行のみ：データベースには何も書き込んでいません。"
    assert snapshot() == ([], [], [], 0)

    contracts_import(rows=good_rows())
    before = snapshot()
    rows = good_rows()
    rows[1] = contract_row(changes={OFFICE_NAME: "横浜事業所"})
    report = contracts_import(rows=rows, dry_run=True)
    assert counts(report)["contracts"] == (0, 1, 0)
    assert snapshot() == before


def test_a_dry_run_reports_the_errors_too():
    rows = good_rows()
    rows[2] = id_row("9ZZZZ")
    report = contracts_import(rows=rows, dry_run=True)
    assert errors(report) == [(3, USER_CODE, "contract_unknown")]


# --- the command ---------------------------------------------------------------------------------------------


def run_command(*args):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_contracts", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_the_command_says_which_encoding_it_read_and_what_it_created(tmp_path):
    path = tmp_path / "contracts.csv"
    path.write_bytes(codecs.BOM_UTF8 + csv_bytes(good_rows()))

    stdout, stderr = run_command(str(path))

    assert stdout.splitlines() == [
        "文字コード：UTF-8（BOMあり）",
        "契約：新規 1件、更新 0件、変更なし 0件",
        "利用者ID：新規 2件、更新 0件、変更なし 0件",
        "アカウント：新規 1件、更新 0件、変更なし 0件",
        "取り込みました。",
    ]
    assert stderr == ""
    assert Contract.objects.filter(user_code="1ANAC").exists()
    stdout, _stderr = run_command(str(path))
    assert "契約：新規 0件、更新 0件、変更なし 1件" in stdout.splitlines()


def test_the_command_with_dry_run_shows_the_changes_and_writes_nothing(tmp_path):
    path = tmp_path / "contracts.csv"
    path.write_bytes(csv_bytes(good_rows(), encoding="cp932"))

    stdout, _stderr = run_command(str(path), "--dry-run")

    assert stdout.splitlines()[0] == "文字コード：Shift_JIS（CP932）"
    assert "利用者ID：新規 2件、更新 0件、変更なし 0件" in stdout
    assert stdout.splitlines()[-1] == "試行のみ：データベースには何も書き込んでいません。"
    assert snapshot() == ([], [], [], 0)


def test_the_command_exits_with_status_1_and_lists_every_error(tmp_path, capsys, monkeypatch):
    rows = good_rows()
    rows[2] = id_row("1ANA")
    rows[4] = account_row(changes={EMAIL: "yamada@"})
    path = tmp_path / "contracts.csv"
    path.write_bytes(csv_bytes(rows))
    # run_from_argv is what manage.py calls; it closes the connections afterwards, which would end the test's
    # transaction.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    command = load_command_class("applications", "import_contracts")

    with pytest.raises(SystemExit) as exit_status:
        command.run_from_argv(["manage.py", "import_contracts", str(path)])

    assert exit_status.value.code == 1
    stderr = capsys.readouterr().err.splitlines()
    assert stderr[:2] == [
        "3行目 利用者コード：英大文字・数字5文字で入力してください。",
        "5行目 メールアドレス：メールアドレスの形式が正しくありません（例：taro@example.co.jp）。",
    ]
    assert any("エラーが" in message and "何も取り込んでいません" in message for message in stderr[2:])
    assert snapshot() == ([], [], [], 0)


def test_the_command_refuses_a_file_it_cannot_read(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run_command(str(tmp_path / "missing.csv"))


# --- bulk: the number of queries does not grow with the file --------------------------------------------------


def offices(codes, *, company="株式会社ベンチ") -> list[list[str]]:
    """One contract per 利用者コード with one ID and one account. (SQLite inserts at most 999 parameters per
    statement, so on SQLite a batch of IDs or accounts is about 50 rows; these sizes stay in one batch on both
    databases, so that equal counts mean no query per row.)"""
    rows = [list(COLUMNS)]
    for code in codes:
        rows.append(contract_row(code, {COMPANY_NAME: f"{company}{code}"}))
        rows.append(id_row(code, "A01"))
        rows.append(account_row(code, f"user-{code.lower()}", {EMAIL: f"{code.lower()}@example.co.jp"}))
    return rows


def codes(start: int, count: int) -> list[str]:
    return [f"Q{number:04d}" for number in range(start, start + count)]


def test_importing_50_contracts_makes_no_more_queries_than_5(django_assert_max_num_queries):
    contracts_import(
        rows=offices(codes(0, 1))
    )  # warm caches (content types) that every later run finds filled
    with CaptureQueriesContext(connection) as five:
        assert contracts_import(rows=offices(codes(1, 5))).contracts.created == 5
    assert len(five) <= 20
    with django_assert_max_num_queries(len(five)):
        assert contracts_import(rows=offices(codes(6, 50))).contracts.created == 50


def test_updating_50_contracts_makes_no_more_queries_than_5(django_assert_max_num_queries):
    contracts_import(rows=offices(codes(0, 55)))
    with CaptureQueriesContext(connection) as five:
        report = contracts_import(rows=offices(codes(0, 5), company="新社名"))
        assert report.contracts.updated == 5
    with django_assert_max_num_queries(len(five)):
        assert contracts_import(rows=offices(codes(5, 50), company="新社名")).contracts.updated == 50


def test_rerunning_50_unchanged_contracts_makes_no_more_queries_than_5(django_assert_max_num_queries):
    contracts_import(rows=offices(codes(0, 55)))
    with CaptureQueriesContext(connection) as five:
        contracts_import(rows=offices(codes(0, 5)))
    with django_assert_max_num_queries(len(five)):
        assert contracts_import(rows=offices(codes(5, 50))).contracts.unchanged == 50


# --- any input: imported, or refused with row errors ---------------------------------------------------------

PLAUSIBLE = {
    KIND: ["契約", "利用者ID", "アカウント"],
    USER_CODE: ["1ANAC", "1anac", "2BDEF"],
    COMPANY_NAME: ["デモ通関株式会社"],
    OFFICE_NAME: ["東京事業所"],
    PROCESSING_METHOD: ["interactive", "netnaccs", "interactive netnaccs"],
    IDENTIFIER: ["A0A", "Y27"],
    CUSTOMS_BROKER: ["1", "0"],
    START_DATE: ["2026-04-01", "2026/4/1"],
    REVOKED_ON: ["2020-01-01"],
    USERNAME: ["yamada", "suzuki"],
    EMAIL: ["yamada@example.co.jp"],
    PHONE: ["03-1234-5678"],
}


# Any text: every Unicode category, lone surrogates included (a screen or an API could hand them over).
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)


def cell(column):
    return st.one_of(st.sampled_from(["", *PLAUSIBLE.get(column, [])]), ANY_TEXT)


def any_text_in(*columns):
    return st.fixed_dictionaries({column: ANY_TEXT for column in columns})


# Rows of any cells, and rows of the right shape with any text in their free-text cells (these reach the database).
ROW = st.one_of(
    st.tuples(*(cell(column) for column in COLUMNS)).map(list),
    st.builds(
        contract_row,
        st.sampled_from(["1ANAC", "2BDEF"]),
        any_text_in(COMPANY_NAME, OFFICE_NAME, DEPARTMENT, ADDRESS),
    ),
    st.builds(
        id_row, st.sampled_from(["1ANAC", "2BDEF"]), st.sampled_from(["A0A", "Y27"]), any_text_in(BROKER_NAME)
    ),
    st.builds(
        account_row,
        st.sampled_from(["1ANAC", "2BDEF"]),
        st.sampled_from(["yamada", "suzuki"]),
        any_text_in(FULL_NAME, DEPARTMENT, PHONE, EMAIL),
    ),
)


@given(rows=st.lists(ROW, max_size=4))
@hypothesis_settings(max_examples=150)
def test_any_text_in_any_cell_is_imported_or_reported_as_a_row_error(rows):
    before = snapshot()

    report = contracts_import(rows=[list(COLUMNS), *rows])

    for error in report.errors:
        assert error.row is None or 2 <= error.row <= len(rows) + 1
        assert error.column is None or error.column in COLUMNS
        assert str(error) and error.message
    if report.errors:
        assert not report.written and snapshot() == before
    else:
        again = contracts_import(rows=[list(COLUMNS), *rows])
        assert again.ok and not again.written
        assert all(kind.created == kind.updated == 0 for _label, kind in again.counts())


@given(data=st.binary(max_size=300))
@hypothesis_settings(max_examples=100)
def test_any_bytes_are_read_or_refused_with_reported_errors(data):
    report = contracts_import(file=data, dry_run=True)
    assert report.encoding in {None, "utf-8", "utf-8-sig", "cp932"}
    assert all(error.row is None or error.row >= 1 for error in report.errors)
    assert not report.written


# Text a person could type (no control, format or surrogate characters), to reach the database more often.
TYPED_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs")), max_size=12)

# (row of good_rows, column) of every free-text cell; what it is stored as; where it is stored.
FREE_TEXT = {
    (2, COMPANY_NAME): (str.strip, lambda: Contract.objects.get().company_name),
    (2, OFFICE_NAME): (str.strip, lambda: Contract.objects.get().office_name),
    (2, DEPARTMENT): (str.strip, lambda: Contract.objects.get().department),
    (2, ADDRESS): (str.strip, lambda: Contract.objects.get().address),
    (3, BROKER_NAME): (
        rules.normalise_broker_name,
        lambda: NaccsUserId.objects.get(identifier="A0A").broker_name,
    ),
    (5, FULL_NAME): (lambda text: " ".join(text.split()), lambda: User.objects.get().full_name),
    (5, DEPARTMENT): (str.strip, lambda: User.objects.get().department),
    (5, PHONE): (rules.normalise_phone, lambda: User.objects.get().phone),
    (5, EMAIL): (str.strip, lambda: User.objects.get().email),
}


@given(cell=st.sampled_from(sorted(FREE_TEXT)), text=st.one_of(ANY_TEXT, TYPED_TEXT))
@hypothesis_settings(max_examples=200)
def test_free_text_is_stored_as_given_or_refused_in_its_own_cell(cell, text):
    row, column = cell
    rows = good_rows()
    rows[row - 1][COLUMNS.index(column)] = text

    report = contracts_import(rows=rows)

    assert {(error.row, error.column) for error in report.errors} <= {cell}
    if report.ok:
        stored_as, stored = FREE_TEXT[cell]
        assert stored() == stored_as(text)
