"""Screens 4–9 (SPEC §3) through Django's test client: what each page shows, which buttons it carries,
where the rule messages appear, and that the screen-5 loop and the submission keep and file exactly what
the customer set."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from applications import clock, dates, rules, services
from applications.models import Application, ApplicationStatus, ReceptionNumberAllocation
from tests.factories import (
    FROZEN_AT,
    HOLIDAY,
    PASSWORD,
    ContractFactory,
    DraftFactory,
    ItemFactory,
    NaccsUserIdFactory,
    method,
    submitted_application,
)
from tests.html import Page

pytestmark = pytest.mark.django_db


def assert_redirects_to(response, url: str) -> None:
    assert response.status_code == 302, response.status_code
    assert response["Location"].split("#")[0] == url


# --- fixtures ----------------------------------------------


@pytest.fixture
def draft(customer):
    """The logged-in customer's empty draft, applicant already entered."""
    return DraftFactory(contract=customer.contract, created_by=customer, items=0)


def add_ids_url(application) -> str:
    return reverse("applications:add-ids", kwargs={"pk": application.pk})


def confirm_url(application) -> str:
    return reverse("applications:confirm", kwargs={"pk": application.pk})


def complete_url(application) -> str:
    return reverse("applications:complete", kwargs={"pk": application.pk})


def set_id(
    client, application, start, *, method_code="interactive", identifier="", name="通関 一郎", **extra
):
    """Press 設定する on screen 5."""
    data = {
        "add": "1",
        "desired_start_date": start.isoformat(),
        "processing_method": method(method_code).pk,
        "desired_identifier": identifier,
        "broker_name": name,
        **extra,
    }
    return client.post(add_ids_url(application), data)


def submitted(contract, start, **kwargs):
    """An application of `contract` filed through the service (reception number, 受付)."""
    return services.application_submit(
        application=DraftFactory(contract=contract, desired_start_date=start, **kwargs)
    )


# --- screen 4: 申込担当者入力画面 -----------------------------------


def test_applicant_screen_has_its_button_and_labelled_fields_prefilled_from_the_account(
    customer_client, customer
):
    response = customer_client.post(reverse("applications:start"), follow=True)
    page = Page(response)
    assert page.screen == "applicant"
    assert page.buttons().count("通関士用利用者IDの入力へ進む") == 1
    controls = {text: page.control_labelled(text) for text in ("氏名", "部署", "電話番号", "メールアドレス")}
    assert {text: control.attrs["name"] for text, control in controls.items()} == {
        "氏名": "name",
        "部署": "department",
        "電話番号": "phone",
        "メールアドレス": "email",
    }
    assert controls["氏名"].attrs["value"] == customer.full_name
    assert controls["メールアドレス"].attrs["value"] == customer.email


def test_applicant_screen_proceeds_to_add_ids_and_keeps_the_contact(customer_client, draft):
    response = customer_client.post(
        reverse("applications:applicant", kwargs={"pk": draft.pk}),
        {
            "name": "鈴木　花子",
            "department": "業務部",
            "phone": "03-9876-5432",
            "email": "hanako@example.com",
        },
    )
    assert_redirects_to(response, add_ids_url(draft))
    draft.refresh_from_db()
    assert (draft.applicant_name, draft.applicant_email) == ("鈴木 花子", "hanako@example.com")


def test_applicant_with_a_malformed_email_is_refused_next_to_the_field_and_not_saved(customer_client, draft):
    response = customer_client.post(
        reverse("applications:applicant", kwargs={"pk": draft.pk}),
        {"name": "鈴木 花子", "department": "", "phone": "03-9876-5432", "email": "hanako@"},
    )
    page = Page(response)
    assert page.screen == "applicant"
    assert "メールアドレスの形式が正しくありません" in page.field_errors("email")
    assert page.field_errors("name") == ""
    draft.refresh_from_db()
    assert draft.applicant_name == "山田 太郎"


def test_applicant_with_a_malformed_phone_and_no_name_gets_japanese_messages_by_each_field(
    customer_client, draft
):
    response = customer_client.post(
        reverse("applications:applicant", kwargs={"pk": draft.pk}),
        {"name": "", "department": "", "phone": "電話", "email": "hanako@example.com"},
    )
    page = Page(response)
    assert page.screen == "applicant"
    assert "電話番号は半角数字とハイフンで入力してください" in page.field_errors("phone")
    assert "必須" in page.field_errors("name")
    draft.refresh_from_db()
    assert draft.applicant_email == "applicant@example.com"


# --- screen 5: 追加登録画面 --------------------------------------


def test_add_ids_screen_has_its_buttons_labelled_fields_and_the_contract(customer_client, draft, freeze):
    page = Page(customer_client.get(add_ids_url(draft)))
    assert page.screen == "add-ids"
    assert page.buttons().count("設定する") == 1
    assert page.buttons().count("申込内容確認へ進む") == 1
    controls = {
        text: page.control_labelled(text)
        for text in ("利用開始希望日", "処理方式", "希望識別番号", "通関士氏名")
    }
    assert {text: (c.tag, c.attrs["name"]) for text, c in controls.items()} == {
        "利用開始希望日": ("input", "desired_start_date"),
        "処理方式": ("select", "processing_method"),
        "希望識別番号": ("input", "desired_identifier"),
        "通関士氏名": ("input", "broker_name"),
    }
    assert controls["利用開始希望日"].attrs["min"] == freeze.isoformat()
    assert draft.contract.user_code in page.text
    assert draft.contract.company_name in page.text


def test_add_ids_offers_only_the_processing_methods_of_the_contract(client, freeze):
    draft = DraftFactory(contract=ContractFactory(methods=["interactive"]), items=0)
    client.force_login(draft.created_by)
    page = Page(client.get(add_ids_url(draft)))
    options = [o.attrs.get("value") for o in page.control_labelled("処理方式").find_all("option")]
    assert options == ["", str(method("interactive").pk)]


def test_set_adds_the_id_to_the_application_info_and_keeps_the_date(customer_client, draft, freeze):
    response = set_id(customer_client, draft, freeze, identifier="ａ１ｂ", name="通関　一郎")
    assert_redirects_to(response, add_ids_url(draft))
    page = Page(customer_client.get(add_ids_url(draft)))
    assert page.item_rows() == [["1", method("interactive").name, "A1B", "通関 一郎", "削除"]]
    assert page.value_of("desired_start_date") == freeze.isoformat()


def test_desired_start_date_on_a_public_holiday_is_refused_next_to_the_date_and_nothing_is_saved(
    customer_client, draft, freeze
):
    response = set_id(customer_client, draft, HOLIDAY)
    page = Page(response)
    assert response.status_code == 200
    assert page.screen == "add-ids"
    errors = page.field_errors("desired_start_date")
    assert "2026年11月23日は祝日（勤労感謝の日）です" in errors
    assert page.field_errors("broker_name") == ""
    draft.refresh_from_db()
    assert draft.desired_start_date is None
    assert not draft.items.exists()


def test_a_malformed_desired_start_date_is_refused_next_to_the_date_in_japanese(
    customer_client, draft, freeze
):
    response = customer_client.post(
        add_ids_url(draft),
        {
            "add": "1",
            "desired_start_date": "2026-13-45",
            "processing_method": method("interactive").pk,
            "broker_name": "通関 一郎",
        },
    )
    page = Page(response)
    assert "利用開始希望日は年-月-日" in page.field_errors("desired_start_date")
    assert page.value_of("broker_name") == "通関 一郎"
    assert not draft.items.exists()


def test_a_twenty_first_id_is_refused_with_a_message_and_not_added(customer_client, draft, freeze, settings):
    assert settings.NSS_MAX_IDS_PER_APPLICATION == 20
    for index in range(20):
        ItemFactory(application=draft, broker_name=f"通関 {index}")
    page = Page(set_id(customer_client, draft, freeze, name="通関 追加"))
    assert page.screen == "add-ids"
    assert "20件まで" in page.page_errors()
    assert draft.items.count() == 20


def test_desired_start_date_sooner_than_two_business_days_is_refused_next_to_the_date(
    customer_client, draft, freeze
):
    page = Page(set_id(customer_client, draft, clock.today() + datetime.timedelta(days=1)))
    assert "2営業日以降" in page.field_errors("desired_start_date")
    assert not draft.items.exists()


def test_desired_start_date_more_than_three_months_ahead_is_refused_next_to_the_date(
    customer_client, draft, freeze
):
    too_late = rules.latest_start_date(clock.today()) + datetime.timedelta(days=7)
    while not rules.business_calendar.is_business_day(too_late):
        too_late += datetime.timedelta(days=1)
    page = Page(set_id(customer_client, draft, too_late))
    assert "3か月以内" in page.field_errors("desired_start_date")
    assert not draft.items.exists()


def test_desired_identifier_already_held_by_the_contract_is_refused_next_to_it_and_nothing_is_saved(
    customer_client, draft, freeze
):
    NaccsUserIdFactory(contract=draft.contract, identifier="A0A")
    page = Page(set_id(customer_client, draft, freeze, identifier="ａ０ａ"))
    assert page.screen == "add-ids"
    assert f"識別番号A0Aはご契約で既に使用されています（{draft.contract.user_code}A0A）" in page.field_errors(
        "desired_identifier"
    )
    assert not draft.items.exists()


def test_desired_identifier_held_by_another_contract_is_accepted(customer_client, draft, freeze):
    NaccsUserIdFactory(identifier="A0A")
    assert_redirects_to(set_id(customer_client, draft, freeze, identifier="A0A"), add_ids_url(draft))
    assert draft.items.get().desired_identifier == "A0A"


def test_desired_identifier_asked_twice_in_one_application_is_refused_next_to_it(
    customer_client, draft, freeze
):
    ItemFactory(application=draft, desired_identifier="Z9Z", broker_name="通関 一郎")
    page = Page(set_id(customer_client, draft, freeze, identifier="z9z", name="通関 二郎"))
    assert "識別番号Z9Zはこの申込で既に設定されています" in page.field_errors("desired_identifier")
    assert draft.items.count() == 1


def test_desired_identifier_of_the_wrong_shape_is_refused_next_to_it(customer_client, draft, freeze):
    page = Page(set_id(customer_client, draft, freeze, identifier="A-1"))
    assert "英大文字・数字3文字" in page.field_errors("desired_identifier")
    assert not draft.items.exists()


def test_same_broker_name_twice_for_one_processing_method_is_refused_next_to_the_name(
    customer_client, draft, freeze
):
    ItemFactory(application=draft, processing_method=method("interactive"), broker_name="通関 一郎")
    page = Page(set_id(customer_client, draft, freeze, method_code="interactive", name=" 通関　一郎 "))
    assert page.screen == "add-ids"
    assert "通関 一郎さんの" in page.field_errors("broker_name")
    assert "処理方式ごとに1つ" in page.field_errors("broker_name")
    assert draft.items.count() == 1


def test_same_broker_name_for_another_processing_method_is_accepted(customer_client, draft, freeze):
    ItemFactory(application=draft, processing_method=method("interactive"), broker_name="通関 一郎")
    assert_redirects_to(set_id(customer_client, draft, freeze, method_code="netnaccs"), add_ids_url(draft))
    assert draft.items.count() == 2


def test_set_without_processing_method_or_broker_name_names_both_fields(customer_client, draft, freeze):
    response = customer_client.post(
        add_ids_url(draft), {"add": "1", "desired_start_date": freeze.isoformat(), "processing_method": ""}
    )
    page = Page(response)
    assert "処理方式を選択してください" in page.field_errors("processing_method")
    assert "通関士氏名を入力してください" in page.field_errors("broker_name")
    assert not draft.items.exists()


def test_processing_method_outside_the_contract_is_refused_next_to_it(client, freeze):
    draft = DraftFactory(contract=ContractFactory(methods=["interactive"]), items=0)
    client.force_login(draft.created_by)
    page = Page(set_id(client, draft, freeze, method_code="netnaccs"))
    assert page.field_errors("processing_method") != ""
    assert not draft.items.exists()


def test_the_screen_5_loop_keeps_the_date_and_the_remaining_ids_through_confirm_and_back(
    customer_client, draft, freeze
):
    set_id(customer_client, draft, freeze, method_code="interactive", identifier="A1B", name="通関 一郎")
    set_id(customer_client, draft, freeze, method_code="netnaccs", identifier="", name="通関 二郎")
    first = draft.items.order_by("id").first()
    response = customer_client.post(
        add_ids_url(draft), {"remove": str(first.pk), "desired_start_date": freeze.isoformat()}
    )
    assert Page(response).item_rows() == [["1", method("netnaccs").name, "指定なし", "通関 二郎", "削除"]]
    # the screen says what was removed
    assert (
        f"削除しました：{method('interactive').name}・希望識別番号 A1B・通関 一郎"
        in Page(response).page_errors()
    )

    response = customer_client.post(
        add_ids_url(draft), {"proceed": "1", "desired_start_date": freeze.isoformat()}
    )
    assert_redirects_to(response, confirm_url(draft))
    confirm = Page(customer_client.get(confirm_url(draft)))
    assert confirm.screen == "confirm"
    assert confirm.item_rows() == [["1", method("netnaccs").name, "指定なし", "通関 二郎"]]

    back = confirm.href_of("通関士用利用者IDの入力に戻る")
    assert back == add_ids_url(draft)
    again = Page(customer_client.get(back))
    assert again.screen == "add-ids"
    assert again.value_of("desired_start_date") == freeze.isoformat()
    assert again.item_rows() == [["1", method("netnaccs").name, "指定なし", "通関 二郎", "削除"]]


def test_remove_shows_again_the_fields_typed_but_not_set(customer_client, draft, freeze):
    item = ItemFactory(application=draft, broker_name="通関 一郎")
    response = customer_client.post(
        add_ids_url(draft),
        {
            "remove": str(item.pk),
            "desired_start_date": freeze.isoformat(),
            "processing_method": str(method("netnaccs").pk),
            "desired_identifier": "K7K",
            "broker_name": "入力 途中",
        },
    )
    page = Page(response)
    assert page.screen == "add-ids"
    assert not draft.items.exists()
    assert page.value_of("desired_start_date") == freeze.isoformat()
    assert page.value_of("processing_method") == str(method("netnaccs").pk)
    assert page.value_of("desired_identifier") == "K7K"
    assert page.value_of("broker_name") == "入力 途中"


def test_proceed_with_an_id_typed_but_not_set_stays_on_screen_5_with_a_message(
    customer_client, draft, freeze
):
    ItemFactory(application=draft, broker_name="通関 一郎")
    response = customer_client.post(
        add_ids_url(draft),
        {
            "proceed": "1",
            "desired_start_date": freeze.isoformat(),
            "processing_method": "",
            "broker_name": "通関 二郎",
        },
    )
    page = Page(response)
    assert response.status_code == 200
    assert page.screen == "add-ids"
    assert "入力中の通関士IDがあります" in page.page_errors()
    assert page.value_of("broker_name") == "通関 二郎"
    draft.refresh_from_db()
    assert draft.desired_start_date is None


def test_proceed_with_no_id_set_stays_on_screen_5_with_a_message(customer_client, draft, freeze):
    response = customer_client.post(
        add_ids_url(draft), {"proceed": "1", "desired_start_date": freeze.isoformat()}
    )
    page = Page(response)
    assert response.status_code == 200
    assert page.screen == "add-ids"
    assert "通関士IDを1件以上設定してください" in page.page_errors()


# --- screen 6: 申込内容確認画面 ------------------------------------


def test_confirm_screen_shows_everything_read_only_with_its_two_buttons(customer_client, customer, freeze):
    draft = DraftFactory(contract=customer.contract, created_by=customer, desired_start_date=freeze, items=0)
    ItemFactory(application=draft, desired_identifier="Q1Z", broker_name="通関 一郎")
    page = Page(customer_client.get(confirm_url(draft)))
    assert page.screen == "confirm"
    assert page.buttons().count("申込内容を登録する") == 1
    assert page.form_of("申込内容を登録する").attrs["method"].lower() == "post"
    # back to screen 5 posts nothing: a link
    assert page.href_of("通関士用利用者IDの入力に戻る") == add_ids_url(draft)
    assert page.root.find_all("input", type="text") == []
    assert dates.format_date(freeze) in page.text
    assert "applicant@example.com" in page.text
    assert page.item_rows() == [["1", method("interactive").name, "Q1Z", "通関 一郎"]]


def test_register_files_the_draft_and_leads_to_complete(customer_client, customer, freeze):
    draft = DraftFactory(contract=customer.contract, created_by=customer, desired_start_date=freeze)
    response = customer_client.post(confirm_url(draft))
    assert_redirects_to(response, complete_url(draft))
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.SUBMITTED


def test_a_replayed_register_post_files_no_second_application_and_leads_to_complete(
    customer_client, customer, freeze, django_capture_on_commit_callbacks
):
    draft = DraftFactory(contract=customer.contract, created_by=customer, desired_start_date=freeze)
    with django_capture_on_commit_callbacks(execute=True):
        customer_client.post(confirm_url(draft))
    draft.refresh_from_db()
    number = draft.reception_number

    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(confirm_url(draft))
    assert_redirects_to(response, complete_url(draft))
    draft.refresh_from_db()
    assert draft.reception_number == number
    assert Application.objects.filter(contract=customer.contract).count() == 1
    assert ReceptionNumberAllocation.objects.count() == 1
    assert len(mail.outbox) == 1
    page = Page(customer_client.get(response["Location"]))
    assert page.screen == "complete"
    assert "既に登録されています" in page.page_errors()


def test_draft_screens_of_a_submitted_application_lead_to_complete(customer_client, customer, freeze):
    application = submitted(customer.contract, freeze, created_by=customer)
    for name in ("applicant", "add-ids", "confirm"):
        url = reverse(f"applications:{name}", kwargs={"pk": application.pk})
        assert_redirects_to(customer_client.get(url), complete_url(application))
    response = customer_client.post(add_ids_url(application), {"remove": str(application.items.get().pk)})
    assert_redirects_to(response, complete_url(application))
    assert application.items.count() == 1


def test_register_is_refused_without_a_csrf_token(customer, freeze):
    draft = DraftFactory(contract=customer.contract, created_by=customer, desired_start_date=freeze)
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    assert client.post(confirm_url(draft)).status_code == 403
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT


def test_register_with_the_csrf_token_of_the_confirm_page_is_accepted(customer, freeze):
    draft = DraftFactory(contract=customer.contract, created_by=customer, desired_start_date=freeze)
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    page = Page(client.get(confirm_url(draft)))
    token = page.form_of("申込内容を登録する").find_all("input", name="csrfmiddlewaretoken")[0].attrs["value"]
    assert_redirects_to(client.post(confirm_url(draft), {"csrfmiddlewaretoken": token}), complete_url(draft))


def test_register_of_a_draft_whose_date_has_gone_stale_stays_on_confirm_with_the_reason(
    customer_client, customer
):
    with time_machine.travel(FROZEN_AT, tick=False):
        draft = DraftFactory(
            contract=customer.contract,
            created_by=customer,
            desired_start_date=rules.earliest_start_date(clock.today()),
        )
    with time_machine.travel(FROZEN_AT + datetime.timedelta(days=7), tick=False):
        response = customer_client.post(confirm_url(draft))
    page = Page(response)
    assert page.screen == "confirm"
    assert "営業日以降" in page.page_errors()
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT


def test_register_once_the_reception_numbers_are_exhausted_stays_on_confirm_with_the_reason(
    customer_client, customer, freeze, reception_numbers_exhaust
):
    draft = DraftFactory(contract=customer.contract, created_by=customer, desired_start_date=freeze)
    reception_numbers_exhaust()
    allocations = ReceptionNumberAllocation.objects.count()
    response = customer_client.post(confirm_url(draft))
    assert response.status_code == 200
    page = Page(response)
    assert page.screen == "confirm"
    assert "申込受付番号を払い出せない" in page.page_errors()
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT
    assert draft.reception_number is None
    assert ReceptionNumberAllocation.objects.count() == allocations
    assert len(mail.outbox) == 0


# --- screens 7–9 -------------------------------------------


def test_complete_screen_shows_the_reception_number_and_the_way_back_to_the_menu(
    customer_client, customer, freeze
):
    application = submitted(customer.contract, freeze, created_by=customer)
    page = Page(customer_client.get(complete_url(application)))
    assert page.screen == "complete"
    assert page.root.find_all(**{"data-field": "reception_number"})[0].text == application.reception_number
    assert page.href_of("メニューに戻る") == reverse("menu")


def test_application_list_shows_each_application_with_a_detail_button(customer_client, customer, freeze):
    first = submitted(customer.contract, freeze, created_by=customer)
    second = submitted(customer.contract, freeze)
    page = Page(customer_client.get(reverse("applications:application-list")))
    assert page.screen == "application-list"
    rows = page.root.find_all("tr")
    numbers = [row.attrs["data-reception-number"] for row in rows if "data-reception-number" in row.attrs]
    assert sorted(numbers) == sorted([first.reception_number, second.reception_number])
    for row in rows:
        if "data-reception-number" in row.attrs:
            links = row.find_all("a")
            assert [link.text for link in links] == ["詳細"]
            assert row.find_all("button") == []
            number = row.attrs["data-reception-number"]
            pk = Application.objects.get(reception_number=number).pk
            assert links[0].attrs["href"] == reverse("applications:application-detail", kwargs={"pk": pk})
            assert links[0].attrs["aria-label"] == f"{number}の詳細"
            assert "受付" in row.text


def test_application_list_leaves_out_drafts(customer_client, draft):
    page = Page(customer_client.get(reverse("applications:application-list")))
    assert "申込はまだありません。" in page.text
    assert page.links().count("詳細") == 0


def test_application_list_pages_by_50_counting_the_offices_applications_and_each_ones_ids(
    customer_client, customer, freeze
):
    """51 applications of the office (one asking for three IDs) are two pages; another office's applications and
    the office's draft are in neither the rows nor the count."""
    three = submitted_application(
        contract=customer.contract, methods=["interactive", "netnaccs", "interactive"]
    )
    for _ in range(50):
        submitted(customer.contract, freeze)
    DraftFactory(contract=customer.contract)
    for _ in range(3):
        submitted(ContractFactory(), freeze)

    def rows(page):
        return {
            row.attrs["data-reception-number"]: row.find_all("td")[1].text
            for row in page.root.find_all("tr")
            if "data-reception-number" in row.attrs
        }

    first = Page(customer_client.get(reverse("applications:application-list")))
    second = Page(customer_client.get(reverse("applications:application-list"), {"page": 2}))
    assert "1 / 2" in first.text and "2 / 2" in second.text
    listed = {**rows(first), **rows(second)}
    assert (len(rows(first)), len(rows(second)), len(listed)) == (50, 1, 51)
    assert listed[three.reception_number] == "通関士IDの追加（3件）"
    assert set(listed.values()) == {"通関士IDの追加（3件）", "通関士IDの追加（1件）"}


def test_application_detail_shows_the_result_and_the_ids_asked(customer_client, customer, freeze):
    application = submitted(customer.contract, freeze, created_by=customer)
    page = Page(
        customer_client.get(reverse("applications:application-detail", kwargs={"pk": application.pk}))
    )
    assert page.screen == "application-detail"
    assert application.reception_number in page.text
    assert page.root.find_all(**{"data-field": "status"})[0].text == "受付"
    assert page.item_rows() == [["1", method("interactive").name, "指定なし", "通関 士0"]]


# --- the draft is kept on the server -----------------------


def test_the_draft_survives_logout_and_login_and_the_guidance_button_leads_back_to_it(
    client, customer, freeze
):
    def log_in():
        response = client.post(reverse("login"), {"username": customer.username, "password": PASSWORD})
        assert_redirects_to(response, reverse("menu"))

    log_in()
    response = client.post(reverse("applications:start"))
    draft = Application.objects.get(created_by=customer, status=ApplicationStatus.DRAFT)
    assert_redirects_to(response, reverse("applications:applicant", kwargs={"pk": draft.pk}))
    set_id(client, draft, freeze, identifier="A1B", name="通関 一郎")
    assert_redirects_to(client.post(reverse("logout")), reverse("login"))

    log_in()
    menu = Page(client.get(reverse("menu")))
    assert "作成中の申込があります" in menu.text
    guidance = Page(client.get(reverse("guidance")))
    assert guidance.form_of("通関士IDを追加する").attrs["action"] == reverse("applications:start")
    response = client.post(reverse("applications:start"))
    assert_redirects_to(response, reverse("applications:applicant", kwargs={"pk": draft.pk}))
    page = Page(client.get(add_ids_url(draft)))
    assert page.item_rows() == [["1", method("interactive").name, "A1B", "通関 一郎", "削除"]]
    assert page.value_of("desired_start_date") == freeze.isoformat()
    assert Application.objects.filter(created_by=customer).count() == 1


# --- HTTP methods ------------------------------------------


def test_remove_with_a_value_that_is_not_an_item_id_removes_nothing(customer_client, draft):
    item = ItemFactory(application=draft)
    response = customer_client.post(add_ids_url(draft), {"remove": "not-a-number"})
    assert Page(response).screen == "add-ids"
    assert draft.items.filter(pk=item.pk).exists()


def test_in_english_the_processing_methods_have_their_english_names(customer_client, draft, freeze, settings):
    customer_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = Page(customer_client.get(add_ids_url(draft)))
    options = [option.text for option in page.root.find_all("option") if option.attrs.get("value")]
    assert "Interactive processing" in options
    assert method("interactive").name not in options
    response = set_id(customer_client, draft, freeze, method_code="interactive")
    assert response.status_code in (200, 302), response.status_code
    page = Page(customer_client.get(add_ids_url(draft)))
    items = page.root.by_id("application-items")
    assert items is not None, page.page_errors() + page.text[:500]
    assert "Interactive processing" in items.text
    # the e-mails stay Japanese whatever the screen's language
    assert method("interactive").label == method("interactive").name
