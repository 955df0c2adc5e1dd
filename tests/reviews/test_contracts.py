"""Contract management in the staff workplace (SPEC §11): the approver registers and edits offices and sees their
利用者IDs and customer accounts; every change is audited; the 利用者コード is unique and never changes."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from applications.exceptions import DomainError
from applications.models import Contract, NaccsUserId, ProcessingMethod
from reviews import selectors, services
from tests.factories import ContractFactory, CustomerFactory, StaffFactory, method, staff_in
from tests.html import Page

pytestmark = pytest.mark.django_db


def methods(*codes):
    return list(ProcessingMethod.objects.filter(code__in=codes))


def register(actor, **fields):
    values = {
        "user_code": "7QZRX",
        "company_name": "みなと通関株式会社",
        "office_name": "横浜事業所",
        "department": "通関部",
        "address": "横浜市中区1-1",
        "processing_methods": methods("interactive", "netnaccs"),
    } | fields
    return services.contract_create(actor=actor, **values)


# --- services ----------------------------------------------------------------------------------------------------


def test_an_approver_registers_a_contract_with_a_normalised_code_and_it_is_audited():
    approver = staff_in("approver")
    contract = register(approver, user_code=" ７ｑｚｒｘ ")
    assert contract.user_code == "7QZRX"
    assert sorted(contract.processing_methods.values_list("code", flat=True)) == ["interactive", "netnaccs"]
    [entry] = LogEntry.objects.filter(additional_data__action="contract_create")
    assert (entry.actor, entry.object_pk, entry.additional_data["user_code"]) == (
        approver,
        str(contract.pk),
        "7QZRX",
    )


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"user_code": "7QZR"}, "user_code", "user_code_shape"),
        ({"user_code": "7QZ-X"}, "user_code", "user_code_shape"),
        ({"company_name": "  "}, "company_name", "required"),
        ({"office_name": ""}, "office_name", "required"),
        ({"processing_methods": []}, "processing_methods", "no_processing_method"),
    ],
)
def test_a_contract_that_breaks_a_rule_is_refused_on_its_field_and_nothing_is_saved(fields, field, code):
    with pytest.raises(DomainError) as refused:
        register(staff_in("approver"), **fields)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert not Contract.objects.filter(company_name="みなと通関株式会社").exists()
    assert not LogEntry.objects.filter(additional_data__action="contract_create").exists()


def test_a_code_already_registered_is_refused():
    ContractFactory(user_code="7QZRX")
    with pytest.raises(DomainError) as refused:
        register(staff_in("approver"), user_code="7qzrx")
    assert refused.value.code == "user_code_taken"
    assert Contract.objects.filter(user_code="7QZRX").count() == 1


def test_a_reviewer_may_not_manage_contracts():
    with pytest.raises(DomainError) as refused:
        register(staff_in("reviewer"))
    assert refused.value.code == "permission_denied"


def test_a_change_is_audited_field_by_field_and_no_change_writes_nothing():
    approver = staff_in("approver")
    contract = register(approver)
    unchanged = services.contract_update(
        actor=approver,
        contract=contract,
        company_name="みなと通関株式会社",
        office_name="横浜事業所",
        department="通関部",
        address="横浜市中区1-1",
        processing_methods=methods("netnaccs", "interactive"),
    )
    assert unchanged.pk == contract.pk
    assert not LogEntry.objects.filter(additional_data__action="contract_update").exists()

    services.contract_update(
        actor=approver,
        contract=contract,
        company_name="みなと海運通関株式会社",
        office_name="横浜事業所",
        department="",
        address="横浜市中区1-1",
        processing_methods=methods("interactive"),
    )
    contract.refresh_from_db()
    assert (contract.company_name, contract.department, contract.user_code) == (
        "みなと海運通関株式会社",
        "",
        "7QZRX",
    )
    [entry] = LogEntry.objects.filter(additional_data__action="contract_update")
    assert set(entry.changes_dict) == {"company_name", "department", "processing_methods"}
    assert entry.changes_dict["company_name"] == ["みなと通関株式会社", "みなと海運通関株式会社"]
    assert entry.actor == approver


def test_the_contract_page_reads_its_ids_and_accounts_in_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    def prepared(code, count):
        contract = ContractFactory(user_code=code)
        NaccsUserId.objects.bulk_create(
            NaccsUserId(
                contract=contract,
                identifier=f"{index:03d}",
                processing_method=method("interactive"),
                is_customs_broker=index % 2 == 0,
                start_date=datetime.date(2026, 4, 1),
            )
            for index in range(count)
        )
        for index in range(count):
            CustomerFactory(contract=contract, username=f"{code.lower()}-{index}")
        return contract

    from applications.selectors import office_accounts

    small, large = prepared("SMAL1", 1), prepared("LARG1", 30)
    with django_assert_max_num_queries(4) as small_queries:
        shown = selectors.contract_for_staff(contract_id=small.pk)
        list(shown.naccs_user_ids.all()), list(shown.processing_methods.all())
        office_accounts(contract_id=small.pk)
    with django_assert_max_num_queries(len(small_queries)):
        shown = selectors.contract_for_staff(contract_id=large.pk)
        assert len(shown.naccs_user_ids.all()) == 30
        assert len(office_accounts(contract_id=large.pk)) == 30
        list(shown.processing_methods.all())


def test_the_list_finds_by_code_or_name_and_pages_by_code():
    for index in range(55):
        ContractFactory(user_code=f"Q{index:04d}", company_name=f"会社{index}")
    ContractFactory(user_code="ZZ999", company_name="みなと通関株式会社", office_name="横浜事業所")
    first = selectors.contract_list(limit=50)
    assert len(first.rows) == 50 and first.next_after == first.rows[-1].user_code
    rest = selectors.contract_list(after=first.next_after, limit=50)
    assert [row.user_code for row in first.rows + rest.rows] == sorted(
        Contract.objects.values_list("user_code", flat=True)
    )
    assert [row.user_code for row in selectors.contract_list(q="zz999").rows] == ["ZZ999"]
    assert [row.user_code for row in selectors.contract_list(q="みなと").rows] == ["ZZ999"]
    assert [row.user_code for row in selectors.contract_list(q="横浜").rows] == ["ZZ999"]


# --- screens -----------------------------------------------------------------------------------------------------


def test_an_approver_registers_a_contract_on_the_screen_and_sees_it(approver_client):
    page = Page(approver_client.get(reverse("reviews:contracts")))
    assert page.screen == "staff-contracts"
    new = Page(approver_client.get(reverse("reviews:contract-new")))
    assert new.screen == "staff-contract-new"
    form = new.form_of("登録する")
    assert form is not None
    interactive, netnaccs = (str(m.pk) for m in methods("interactive", "netnaccs"))
    response = approver_client.post(
        reverse("reviews:contract-new"),
        {
            "user_code": "7qzrx",
            "company_name": "みなと通関株式会社",
            "office_name": "横浜事業所",
            "processing_methods": [interactive, netnaccs],
        },
        follow=True,
    )
    page = Page(response)
    assert page.screen == "staff-contract"
    assert "契約 7QZRX を登録しました。" in page.text
    assert "契約の登録" in page.root.by_id("contract-audit-trail").text


def test_errors_stand_next_to_their_fields(approver_client):
    ContractFactory(user_code="7QZRX")
    response = approver_client.post(
        reverse("reviews:contract-new"), {"user_code": "7QZRX", "company_name": "", "office_name": "x"}
    )
    page = Page(response)
    assert page.screen == "staff-contract-new"
    assert "このフィールドは必須です。" in page.field_errors("company_name")
    assert "処理方式を1つ以上選んでください。" in page.field_errors("processing_methods")
    response = approver_client.post(
        reverse("reviews:contract-new"),
        {
            "user_code": "7QZRX",
            "company_name": "別の会社",
            "office_name": "本社",
            "processing_methods": [str(method("interactive").pk)],
        },
    )
    assert "利用者コード 7QZRX の契約はすでに登録されています。" in Page(response).field_errors("user_code")
    assert Contract.objects.filter(user_code="7QZRX").count() == 1


def test_the_contract_page_shows_its_ids_and_accounts_and_changes_it(approver_client):
    contract = ContractFactory(user_code="7QZRX", methods=["interactive"])
    NaccsUserId.objects.create(
        contract=contract,
        identifier="K7Q",
        processing_method=method("interactive"),
        is_customs_broker=True,
        start_date=datetime.date(2026, 12, 1),
    )
    CustomerFactory(contract=contract, username="minato-1", email="minato@example.co.jp")
    CustomerFactory(contract=ContractFactory(), username="someone-else")
    StaffFactory(username="not-a-customer")
    url = reverse("reviews:contract", kwargs={"pk": contract.pk})
    page = Page(approver_client.get(url))
    assert page.screen == "staff-contract"
    [row] = page.root.find_all("tr", **{"data-naccs-user-id": "7QZRXK7Q"})
    assert "はい" in row.text and "2026年12月1日" in row.text
    assert [tr.attrs["data-account"] for tr in page.root.find_all("tr") if "data-account" in tr.attrs] == [
        "minato-1"
    ]
    assert "user_code" not in {control.attrs.get("name") for control in page.root.find_all("input")}

    response = approver_client.post(
        url,
        {
            "company_name": "みなと海運株式会社",
            "office_name": "本社",
            "processing_methods": [str(method("interactive").pk)],
        },
        follow=True,
    )
    assert "契約を変更しました。" in Page(response).text
    contract.refresh_from_db()
    assert (contract.user_code, contract.company_name) == ("7QZRX", "みなと海運株式会社")


@hypothesis_settings(max_examples=30)
@given(code=st.text(max_size=12), name=st.text(max_size=120))
def test_any_text_in_the_form_is_a_message_or_a_contract_never_an_error(approver_client, code, name):
    response = approver_client.post(
        reverse("reviews:contract-new"),
        {
            "user_code": code,
            "company_name": name,
            "office_name": "本社",
            "processing_methods": [str(method("interactive").pk)],
        },
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Page(response).screen == "staff-contract-new"


# --- the import's upload screen -----------------------------------------------------------------------------------


def _upload(client, content: bytes, *, dry_run: bool, name: str = "contracts.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse("reviews:contract-import"), data)


def _sample() -> bytes:
    from pathlib import Path

    from django.conf import settings

    return (Path(settings.BASE_DIR) / "docs" / "samples" / "contracts.csv").read_bytes()


def test_the_upload_screen_checks_first_then_imports_with_the_staff_member_as_actor(
    approver_client, approver
):
    page = Page(approver_client.get(reverse("reviews:contract-import")))
    assert page.screen == "staff-contract-import"
    before = Contract.objects.count()

    checked = Page(_upload(approver_client, _sample(), dry_run=True))
    [result] = checked.root.find_all(**{"data-import-result": "dry-run"})
    assert "試行のみ：データベースには何も書き込んでいません。" in result.text
    assert Contract.objects.count() == before

    imported = Page(_upload(approver_client, _sample(), dry_run=False))
    assert imported.root.find_all(**{"data-import-result": "imported"})
    assert Contract.objects.count() > before
    entries = LogEntry.objects.filter(additional_data__action="contract_import")
    assert entries.exists() and {entry.actor for entry in entries} == {approver}

    again = Page(_upload(approver_client, _sample(), dry_run=False))
    assert "変更はありません。" in again.text


def test_a_bad_file_lists_each_error_with_its_row_and_column_and_imports_nothing(approver_client):
    bad = _sample().decode("utf-8-sig").replace("3CDEF", "3cde", 1).encode("utf-8")
    page = Page(_upload(approver_client, bad, dry_run=False))
    assert page.root.find_all(**{"data-import-result": "errors"})
    [row] = [tr for tr in page.root.by_id("import-errors").find_all("tr") if tr.attrs.get("data-row") == "2"]
    assert "利用者コード" in row.text
    assert not Contract.objects.filter(company_name="みなと通関株式会社").exists()


def test_a_file_over_the_limit_is_refused_next_to_the_field(approver_client, settings):
    settings.NSS_CONTRACT_IMPORT_MAX_BYTES = 100
    page = Page(_upload(approver_client, _sample(), dry_run=True))
    assert "ファイルが大きすぎます" in page.field_errors("file")
    assert not page.root.find_all(**{"data-import-result": "dry-run"})


def test_a_reviewer_cannot_import():
    with pytest.raises(DomainError):
        services.contract_file_import(actor=staff_in("reviewer"), file=_sample(), dry_run=True)
