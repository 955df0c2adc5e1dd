"""通関士IDの削除 (SPEC §9), the customer's side: which IDs may be chosen, the 利用終了希望日, submission, the
screens guidance → applicant → select-ids → confirm → complete, and tenancy."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from applications import clock, kinds, rules
from applications.exceptions import DomainError
from applications.models import Application, ApplicationItem, ApplicationKind, ApplicationStatus
from applications.services import application_draft_start, application_submit, application_targets_set
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    NaccsUserIdFactory,
    method,
    removal_draft,
    submitted_removal,
)
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

REMOVE = ApplicationKind.REMOVE_BROKER_IDS


@pytest.fixture
def broker_ids(contract):
    return [
        NaccsUserIdFactory(contract=contract, identifier="A0A", broker_name="通関 一郎"),
        NaccsUserIdFactory(
            contract=contract, identifier="B0B", broker_name="通関 二郎", processing_method=method("netnaccs")
        ),
    ]


def earliest():
    return rules.earliest_start_date(clock.today())


def removal_of(customer):
    return application_draft_start(user=customer, kind=REMOVE)


# --- which IDs may be chosen ----------------------------------------------------------------------------------


def test_removable_ids_are_the_contracts_customs_broker_ids_not_revoked(contract, broker_ids):
    NaccsUserIdFactory(contract=contract, identifier="G01", is_customs_broker=False)
    NaccsUserIdFactory(
        contract=contract, identifier="R01", revoked_at=clock.start_of_day(datetime.date(2026, 1, 5))
    )
    NaccsUserIdFactory(identifier="Z01")  # another office's
    assert [n.identifier for n in kinds.selectable_ids(REMOVE, contract_id=contract.pk)] == ["A0A", "B0B"]


def test_an_id_in_an_open_removal_cannot_be_chosen_again(contract, broker_ids):
    submitted_removal(contract=contract, targets=broker_ids[:1])
    assert [n.identifier for n in kinds.selectable_ids(REMOVE, contract_id=contract.pk)] == ["B0B"]


@pytest.mark.parametrize("status", [ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN])
def test_an_id_of_a_closed_removal_may_be_chosen_again(contract, broker_ids, status):
    application = submitted_removal(contract=contract, targets=broker_ids[:1])
    Application.objects.filter(pk=application.pk).update(status=status)
    assert [n.identifier for n in kinds.selectable_ids(REMOVE, contract_id=contract.pk)] == ["A0A", "B0B"]


def test_an_id_in_an_open_addition_is_no_hindrance(contract, broker_ids):
    """'An ID already in an open application of the same kind': other kinds do not count."""
    assert len(kinds.selectable_ids(REMOVE, contract_id=contract.pk)) == 2


# --- the service of select-ids --------------------------------------------------------------------------------


def test_selection_sets_the_items_naming_each_id_and_the_desired_end_date(customer, broker_ids):
    draft = removal_of(customer)
    application_targets_set(
        application=draft, target_ids=[n.pk for n in broker_ids], desired_end_date=earliest()
    )
    draft.refresh_from_db()
    assert draft.desired_end_date == earliest()
    assert [(i.target.identifier, i.processing_method.code) for i in draft.items.order_by("id")] == [
        ("A0A", "interactive"),
        ("B0B", "netnaccs"),
    ]


def test_selecting_again_replaces_the_selection(customer, broker_ids):
    draft = removal_of(customer)
    application_targets_set(
        application=draft, target_ids=[n.pk for n in broker_ids], desired_end_date=earliest()
    )
    application_targets_set(application=draft, target_ids=[broker_ids[1].pk], desired_end_date=earliest())
    assert [i.target.identifier for i in draft.items.all()] == ["B0B"]


def test_ids_without_a_broker_name_of_one_method_may_be_removed_together(customer, contract):
    ids = [NaccsUserIdFactory(contract=contract, identifier=code, broker_name="") for code in ("A01", "A02")]
    draft = removal_of(customer)
    application_targets_set(application=draft, target_ids=[n.pk for n in ids], desired_end_date=earliest())
    assert draft.items.count() == 2


def test_selecting_nothing_is_refused(customer, broker_ids):
    with pytest.raises(DomainError) as refused:
        application_targets_set(application=removal_of(customer), target_ids=[], desired_end_date=earliest())
    assert refused.value.code == "no_ids" and refused.value.field == "targets"
    assert "削除する通関士IDを1件以上選択してください。" in str(refused.value.message)


@pytest.mark.parametrize(
    "make",
    [
        lambda contract: NaccsUserIdFactory(identifier="Z01"),  # another office's
        lambda contract: NaccsUserIdFactory(contract=contract, identifier="G01", is_customs_broker=False),
        lambda contract: NaccsUserIdFactory(
            contract=contract, identifier="R01", revoked_at=clock.start_of_day(datetime.date(2026, 1, 5))
        ),
    ],
    ids=["another-office", "not-customs-broker", "revoked"],
)
def test_an_id_that_may_not_be_removed_is_refused(customer, contract, make):
    target = make(contract)
    with pytest.raises(DomainError) as refused:
        application_targets_set(
            application=removal_of(customer), target_ids=[target.pk], desired_end_date=earliest()
        )
    assert refused.value.code == "target_not_selectable"
    assert not ApplicationItem.objects.filter(target=target).exists()


def test_an_id_already_in_an_open_removal_is_refused(customer, contract, broker_ids):
    submitted_removal(contract=contract, targets=broker_ids[:1])
    with pytest.raises(DomainError) as refused:
        application_targets_set(
            application=removal_of(customer), target_ids=[broker_ids[0].pk], desired_end_date=earliest()
        )
    assert refused.value.code == "target_not_selectable"


@pytest.mark.parametrize(
    ("day", "code", "message"),
    [
        (None, "required", "利用終了希望日を入力してください。"),
        (datetime.date(2026, 11, 21), "not_business_day", "2026年11月21日は営業日ではない日です。"),
        (datetime.date(2026, 11, 17), "too_early", "利用終了希望日は申込日から2営業日以降"),
        (datetime.date(2027, 3, 1), "too_late", "利用終了希望日は3か月以内"),
    ],
)
def test_the_desired_end_date_has_the_window_of_the_start_date(customer, broker_ids, day, code, message):
    with pytest.raises(DomainError) as refused:
        application_targets_set(
            application=removal_of(customer), target_ids=[broker_ids[0].pk], desired_end_date=day
        )
    assert refused.value.code == code and refused.value.field == "desired_end_date"
    assert message in str(refused.value.message)


def test_the_add_screens_services_refuse_a_removal_draft(customer):
    from applications.services import application_desired_start_date_set

    with pytest.raises(DomainError) as refused:
        application_desired_start_date_set(application=removal_of(customer), desired_start_date=earliest())
    assert refused.value.code == "wrong_kind"


def test_one_draft_per_user_and_kind(customer):
    add = application_draft_start(user=customer)
    remove = removal_of(customer)
    assert add.pk != remove.pk and remove.kind == REMOVE
    assert removal_of(customer).pk == remove.pk


# --- submission -----------------------------------------------------------------------------------------------


def test_submission_files_it_with_a_reception_number_and_the_receipt_naming_the_kind(
    contract, broker_ids, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application = submitted_removal(contract=contract, targets=broker_ids)
    assert application.status == ApplicationStatus.SUBMITTED and application.reception_number
    [receipt] = mail.outbox
    body = receipt.body
    assert "申込種別：通関士IDの削除" in body
    assert f"{contract.user_code}A0A" in body and f"{contract.user_code}B0B" in body
    assert "利用終了希望日" in body and "利用開始希望日" not in body


def test_submission_checks_again_that_no_id_is_in_another_open_removal(contract, broker_ids):
    first = removal_draft(contract=contract, targets=broker_ids[:1])
    second = removal_draft(
        contract=contract, targets=broker_ids[:1], created_by=CustomerFactory(contract=contract)
    )
    application_submit(application=first)
    with pytest.raises(DomainError) as refused:
        application_submit(application=second)
    assert refused.value.code == "target_not_selectable"
    second.refresh_from_db()
    assert second.status == ApplicationStatus.DRAFT


def test_submission_checks_the_desired_end_date_again(contract, broker_ids, frozen_clock):
    draft = removal_draft(contract=contract, targets=broker_ids[:1])
    frozen_clock.shift(datetime.timedelta(days=7))
    with pytest.raises(DomainError) as refused:
        application_submit(application=draft)
    assert refused.value.field == "desired_end_date"


# --- the screens ----------------------------------------------------------------------------------------------


def test_menu_offers_the_removal_and_its_guidance_starts_it(customer_client):
    menu = Page(customer_client.get(reverse("menu")))
    assert menu.href_of("通関士IDの削除") == reverse("guidance-remove")
    guidance = Page(customer_client.get(reverse("guidance-remove")))
    assert guidance.screen == "guidance" and guidance.main.attrs["data-kind"] == REMOVE
    form = guidance.form_of("通関士IDを削除する")
    assert form.attrs["action"] == reverse("applications:start")


def test_the_whole_removal_on_the_screens(customer_client, customer, broker_ids):
    started = customer_client.post(reverse("applications:start"), {"kind": REMOVE})
    draft = Application.objects.get(created_by=customer, kind=REMOVE)
    assert started.url == reverse("applications:applicant", kwargs={"pk": draft.pk})
    applicant = Page(customer_client.get(started.url))
    assert applicant.main.attrs["data-kind"] == REMOVE
    assert "対象IDの選択へ進む" in applicant.buttons()
    to_select = customer_client.post(
        started.url,
        {"name": "山田 太郎", "department": "通関部", "phone": "03-1234-5678", "email": "t@example.com"},
    )
    assert to_select.url == reverse("applications:select-ids", kwargs={"pk": draft.pk})
    select = Page(customer_client.get(to_select.url))
    assert select.screen == "select-ids" and select.main.attrs["data-kind"] == REMOVE
    assert "申込内容確認へ進む" in select.buttons()
    assert select.control_labelled(f"{customer.contract.user_code}A0A") is not None
    assert select.control_labelled("利用終了希望日") is not None
    to_confirm = customer_client.post(
        to_select.url,
        {"targets": [str(broker_ids[0].pk)], "desired_end_date": earliest().isoformat(), "proceed": "1"},
    )
    assert to_confirm.url == reverse("applications:confirm", kwargs={"pk": draft.pk})
    confirm = Page(customer_client.get(to_confirm.url))
    assert confirm.main.attrs["data-kind"] == REMOVE
    assert confirm.href_of("対象IDの選択に戻る") == to_select.url
    assert f"{customer.contract.user_code}A0A" in confirm.text and "利用終了希望日" in confirm.text
    done = customer_client.post(to_confirm.url)
    assert done.url == reverse("applications:complete", kwargs={"pk": draft.pk})
    complete = Page(customer_client.get(done.url))
    assert complete.screen == "complete" and complete.main.attrs["data-kind"] == REMOVE
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.SUBMITTED


def test_select_ids_keeps_what_was_chosen_and_shows_the_errors(customer_client, customer, broker_ids):
    draft = removal_of(customer)
    url = reverse("applications:select-ids", kwargs={"pk": draft.pk})
    response = customer_client.post(
        url, {"targets": [str(broker_ids[1].pk)], "desired_end_date": "", "proceed": "1"}
    )
    page = Page(response)
    assert response.status_code == 200
    assert "利用終了希望日を入力してください。" in page.field_errors("desired_end_date")
    assert page.root.by_id(f"target-{broker_ids[1].pk}").attrs.get("checked") is not None
    assert page.root.by_id(f"target-{broker_ids[0].pk}").attrs.get("checked") is None
    nothing = Page(customer_client.post(url, {"desired_end_date": earliest().isoformat(), "proceed": "1"}))
    assert "削除する通関士IDを1件以上選択してください。" in nothing.text


def test_an_id_already_in_an_open_removal_is_not_offered(customer_client, customer, contract, broker_ids):
    submitted_removal(
        contract=contract, targets=broker_ids[:1], created_by=CustomerFactory(contract=contract)
    )
    page = Page(
        customer_client.get(reverse("applications:select-ids", kwargs={"pk": removal_of(customer).pk}))
    )
    assert f"{contract.user_code}A0A" not in page.text and f"{contract.user_code}B0B" in page.text


def test_the_selection_step_of_the_other_kind_leads_to_the_own_one(customer_client, customer):
    removal = removal_of(customer)
    addition = application_draft_start(user=customer)
    assert customer_client.get(reverse("applications:add-ids", kwargs={"pk": removal.pk})).url == reverse(
        "applications:select-ids", kwargs={"pk": removal.pk}
    )
    assert customer_client.get(reverse("applications:select-ids", kwargs={"pk": addition.pk})).url == reverse(
        "applications:add-ids", kwargs={"pk": addition.pk}
    )


def test_an_unknown_kind_cannot_be_started(customer_client):
    assert customer_client.post(reverse("applications:start"), {"kind": "no_such_kind"}).status_code == 404


# --- tenancy --------------------------------------------------------------------------------------------------


def test_another_offices_removal_draft_is_a_404(customer_client):
    other = removal_draft(contract=ContractFactory())
    assert customer_client.get(reverse("applications:select-ids", kwargs={"pk": other.pk})).status_code == 404
    assert (
        customer_client.post(reverse("applications:select-ids", kwargs={"pk": other.pk})).status_code == 404
    )


def test_another_offices_id_posted_to_select_ids_is_refused(customer_client, customer, broker_ids):
    foreign = NaccsUserIdFactory(identifier="Z01")
    draft = removal_of(customer)
    page = Page(
        customer_client.post(
            reverse("applications:select-ids", kwargs={"pk": draft.pk}),
            {"targets": [str(foreign.pk)], "desired_end_date": earliest().isoformat(), "proceed": "1"},
        )
    )
    assert page.field_errors("targets")
    assert not ApplicationItem.objects.filter(target=foreign).exists()


def test_the_list_shows_a_removals_end_dates(customer_client, customer, contract, broker_ids):
    application = submitted_removal(contract=contract, targets=broker_ids[:1], created_by=customer)
    page = Page(customer_client.get(reverse("applications:application-list")))
    [row] = [
        r
        for r in page.root.find_all("tr")
        if r.attrs.get("data-reception-number") == application.reception_number
    ]
    assert "通関士IDの削除" in row.text and "利用終了希望日" in row.text
