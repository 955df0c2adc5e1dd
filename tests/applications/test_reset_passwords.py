"""パスワードの初期化 (SPEC §9), the customer's side: which 利用者IDs may be chosen, submission, the screens
guidance → applicant → select-ids → confirm → complete, the menu's drafts of every kind, and tenancy."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from applications import clock
from applications.exceptions import DomainError
from applications.models import Application, ApplicationItem, ApplicationKind, ApplicationStatus
from applications.services import application_draft_start, application_submit, application_targets_set
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    NaccsUserIdFactory,
    method,
    reset_draft,
    submitted_removal,
    submitted_reset,
)
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

RESET = ApplicationKind.RESET_PASSWORDS
REVOKED_AT = datetime.datetime(2026, 1, 5, tzinfo=clock.JST)


@pytest.fixture
def user_ids(contract):
    """A 通関士ID, an ordinary 利用者ID of another processing method, and one imported with no password."""
    return [
        NaccsUserIdFactory(contract=contract, identifier="A0A", broker_name="通関 一郎", password_hash="x"),
        NaccsUserIdFactory(
            contract=contract,
            identifier="G01",
            is_customs_broker=False,
            processing_method=method("netnaccs"),
            password_hash="x",
        ),
        NaccsUserIdFactory(contract=contract, identifier="M01", is_customs_broker=False),
    ]


def reset_of(customer):
    return application_draft_start(user=customer, kind=RESET)


def selectable(contract):
    from applications import kinds

    return [naccs_id.identifier for naccs_id in kinds.selectable_ids(RESET, contract_id=contract.pk)]


# --- which IDs may be chosen ----------------------------------------------------------------------------------


def test_every_id_of_the_contract_not_revoked_may_be_reset(contract, user_ids):
    NaccsUserIdFactory(contract=contract, identifier="R01", revoked_at=REVOKED_AT)
    NaccsUserIdFactory(identifier="Z01")  # another office's
    assert selectable(contract) == ["A0A", "G01", "M01"]


def test_an_id_whose_removal_is_approved_but_not_yet_effective_may_still_be_reset(contract, user_ids):
    """Revoked means 廃止日時 set (from an approved removal too): such an ID is not offered."""
    user_ids[0].revoked_at = REVOKED_AT + datetime.timedelta(days=365)
    user_ids[0].save()
    assert selectable(contract) == ["G01", "M01"]


def test_an_id_in_an_open_reset_cannot_be_chosen_again(contract, user_ids):
    submitted_reset(contract=contract, targets=user_ids[:1])
    assert selectable(contract) == ["G01", "M01"]


@pytest.mark.parametrize(
    "status", [ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN, ApplicationStatus.APPROVED]
)
def test_an_id_of_a_closed_reset_may_be_chosen_again(contract, user_ids, status):
    application = submitted_reset(contract=contract, targets=user_ids[:1])
    Application.objects.filter(pk=application.pk).update(status=status)
    assert selectable(contract) == ["A0A", "G01", "M01"]


def test_an_id_in_an_open_removal_may_still_be_reset(contract, user_ids):
    """'An ID already in an open application of the same kind': a removal is another kind."""
    submitted_removal(contract=contract, targets=user_ids[:1])
    assert selectable(contract) == ["A0A", "G01", "M01"]


# --- the service of select-ids --------------------------------------------------------------------------------


def test_selection_sets_the_items_naming_each_id_and_no_date(customer, user_ids):
    draft = reset_of(customer)
    application_targets_set(application=draft, target_ids=[n.pk for n in user_ids])
    draft.refresh_from_db()
    assert draft.desired_start_date is None and draft.desired_end_date is None
    assert [i.target.identifier for i in draft.items.order_by("id")] == ["A0A", "G01", "M01"]


def test_a_date_posted_with_a_reset_is_not_kept(customer, user_ids):
    draft = reset_of(customer)
    application_targets_set(
        application=draft, target_ids=[user_ids[0].pk], desired_end_date=datetime.date(2026, 11, 20)
    )
    draft.refresh_from_db()
    assert draft.desired_end_date is None


def test_ids_without_a_broker_name_of_one_method_may_be_reset_together(customer, contract):
    ids = [
        NaccsUserIdFactory(contract=contract, identifier=code, broker_name="", is_customs_broker=False)
        for code in ("G01", "G02", "G03")
    ]
    draft = reset_of(customer)
    application_targets_set(application=draft, target_ids=[n.pk for n in ids])
    assert draft.items.count() == 3


def test_selecting_nothing_is_refused_with_the_kinds_message(customer, user_ids):
    with pytest.raises(DomainError) as refused:
        application_targets_set(application=reset_of(customer), target_ids=[])
    assert refused.value.code == "no_ids" and refused.value.field == "targets"
    assert refused.value.message == "パスワードを初期化する利用者IDを1件以上選択してください。"


def test_more_than_the_maximum_is_refused(customer, contract, settings):
    settings.NSS_MAX_IDS_PER_APPLICATION = 2
    ids = [NaccsUserIdFactory(contract=contract, identifier=f"G0{i}") for i in range(3)]
    with pytest.raises(DomainError) as refused:
        application_targets_set(application=reset_of(customer), target_ids=[n.pk for n in ids])
    assert refused.value.code == "too_many_ids"
    assert refused.value.message == "1回の申込で初期化できる利用者IDは2件までです。"


@pytest.mark.parametrize(
    "make",
    [
        lambda contract: NaccsUserIdFactory(identifier="Z01"),  # another office's
        lambda contract: NaccsUserIdFactory(contract=contract, identifier="R01", revoked_at=REVOKED_AT),
        lambda contract: (
            submitted_reset(
                contract=contract, targets=[NaccsUserIdFactory(contract=contract, identifier="P01")]
            )
            .items.get()
            .target
        ),
    ],
    ids=["another-office", "revoked", "in-an-open-reset"],
)
def test_an_id_that_may_not_be_reset_is_refused_and_nothing_is_kept(customer, contract, make):
    target = make(contract)
    draft = reset_of(customer)
    with pytest.raises(DomainError) as refused:
        application_targets_set(application=draft, target_ids=[target.pk])
    assert refused.value.code == "target_not_selectable"
    assert "初期化できないID" in refused.value.message
    assert not draft.items.exists()


def test_the_add_screens_services_refuse_a_reset_draft(customer):
    from applications.services import application_desired_start_date_set

    with pytest.raises(DomainError) as refused:
        application_desired_start_date_set(
            application=reset_of(customer), desired_start_date=datetime.date(2026, 11, 20)
        )
    assert refused.value.code == "wrong_kind"


def test_the_select_ids_service_refuses_an_addition_draft(customer, user_ids):
    with pytest.raises(DomainError) as refused:
        application_targets_set(
            application=application_draft_start(user=customer), target_ids=[user_ids[0].pk]
        )
    assert refused.value.code == "wrong_kind"


# --- submission -----------------------------------------------------------------------------------------------


def test_submission_files_it_and_the_receipt_names_the_kind_and_the_ids(
    contract, user_ids, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application = submitted_reset(contract=contract, targets=user_ids[:2])
    assert application.status == ApplicationStatus.SUBMITTED and application.reception_number
    [receipt] = mail.outbox
    body = receipt.body
    assert "申込種別：パスワードの初期化" in body
    assert "パスワードを初期化する利用者ID" in body
    assert f"{contract.user_code}A0A" in body and f"{contract.user_code}G01" in body
    assert "希望日" not in body
    html = receipt.alternatives[0][0]
    assert f"{contract.user_code}G01" in html and "希望日" not in html


def test_submission_checks_again_that_no_id_is_in_another_open_reset(contract, user_ids):
    first = reset_draft(contract=contract, targets=user_ids[:1])
    second = reset_draft(
        contract=contract, targets=user_ids[:1], created_by=CustomerFactory(contract=contract)
    )
    application_submit(application=first)
    with pytest.raises(DomainError) as refused:
        application_submit(application=second)
    assert refused.value.code == "target_not_selectable"
    second.refresh_from_db()
    assert second.status == ApplicationStatus.DRAFT


def test_submission_checks_again_that_the_id_was_not_revoked_meanwhile(contract, user_ids):
    draft = reset_draft(contract=contract, targets=user_ids[:1])
    user_ids[0].revoked_at = REVOKED_AT
    user_ids[0].save()
    with pytest.raises(DomainError) as refused:
        application_submit(application=draft)
    assert refused.value.code == "target_not_selectable"


def test_a_reset_and_a_removal_of_one_id_may_both_be_filed(contract, user_ids):
    submitted_removal(contract=contract, targets=user_ids[:1])
    assert submitted_reset(contract=contract, targets=user_ids[:1]).status == ApplicationStatus.SUBMITTED


# --- the screens ----------------------------------------------------------------------------------------------


def test_menu_offers_the_reset_and_its_guidance_starts_it(customer_client):
    menu = Page(customer_client.get(reverse("menu")))
    assert menu.href_of("パスワードの初期化") == reverse("guidance-reset")
    guidance = Page(customer_client.get(reverse("guidance-reset")))
    assert guidance.screen == "guidance" and guidance.main.attrs["data-kind"] == RESET
    assert "パスワード初期化ガイダンス画面" in guidance.text
    form = guidance.form_of("パスワードを初期化する")
    assert form.attrs["action"] == reverse("applications:start")


def test_the_whole_reset_on_the_screens(customer_client, customer, user_ids):
    user_code = customer.contract.user_code
    started = customer_client.post(reverse("applications:start"), {"kind": RESET})
    draft = Application.objects.get(created_by=customer, kind=RESET)
    assert started.url == reverse("applications:applicant", kwargs={"pk": draft.pk})
    applicant = Page(customer_client.get(started.url))
    assert applicant.main.attrs["data-kind"] == RESET
    assert "対象IDの選択へ進む" in applicant.buttons()
    to_select = customer_client.post(
        started.url,
        {"name": "山田 太郎", "department": "通関部", "phone": "03-1234-5678", "email": "t@example.com"},
    )
    assert to_select.url == reverse("applications:select-ids", kwargs={"pk": draft.pk})
    select = Page(customer_client.get(to_select.url))
    assert select.screen == "select-ids" and select.main.attrs["data-kind"] == RESET
    assert "申込内容確認へ進む" in select.buttons()
    for identifier in ("A0A", "G01", "M01"):
        assert select.control_labelled(f"{user_code}{identifier}") is not None
    assert "利用終了希望日" not in select.text and not select.root.find_all("input", type="date")
    assert "パスワードを初期化する利用者ID" in select.text
    to_confirm = customer_client.post(
        to_select.url, {"targets": [str(user_ids[0].pk), str(user_ids[1].pk)], "proceed": "1"}
    )
    assert to_confirm.url == reverse("applications:confirm", kwargs={"pk": draft.pk})
    confirm = Page(customer_client.get(to_confirm.url))
    assert confirm.main.attrs["data-kind"] == RESET
    assert confirm.href_of("対象IDの選択に戻る") == to_select.url
    assert f"{user_code}A0A" in confirm.text and f"{user_code}G01" in confirm.text
    assert f"{user_code}M01" not in confirm.text and "希望日" not in confirm.text
    done = customer_client.post(to_confirm.url)
    assert done.url == reverse("applications:complete", kwargs={"pk": draft.pk})
    complete = Page(customer_client.get(done.url))
    assert complete.screen == "complete" and complete.main.attrs["data-kind"] == RESET
    assert "新しい初期パスワード" in complete.text
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.SUBMITTED


def test_select_ids_keeps_what_was_chosen_and_says_what_is_missing(customer_client, customer, user_ids):
    url = reverse("applications:select-ids", kwargs={"pk": reset_of(customer).pk})
    page = Page(customer_client.post(url, {"proceed": "1"}))
    assert "パスワードを初期化する利用者IDを1件以上選択してください。" in page.field_errors("targets")
    foreign = NaccsUserIdFactory(identifier="Z01")
    page = Page(
        customer_client.post(url, {"targets": [str(user_ids[1].pk), str(foreign.pk)], "proceed": "1"})
    )
    assert page.field_errors("targets")
    assert page.root.by_id(f"target-{user_ids[1].pk}").attrs.get("checked") is not None
    assert not ApplicationItem.objects.filter(target=foreign).exists()


@pytest.mark.parametrize("value", ["abc", "-1", "9" * 30, "1e3", "", "\x00"])
def test_garbage_ids_posted_to_select_ids_are_a_message_not_an_error(customer_client, customer, value):
    url = reverse("applications:select-ids", kwargs={"pk": reset_of(customer).pk})
    response = customer_client.post(url, {"targets": [value], "proceed": "1"})
    assert response.status_code == 200
    assert Page(response).field_errors("targets")


def test_an_office_with_no_id_to_reset_is_told_so(customer_client, customer):
    page = Page(customer_client.get(reverse("applications:select-ids", kwargs={"pk": reset_of(customer).pk})))
    assert "初期化できる利用者IDはありません" in page.text


def test_the_menu_shows_a_draft_of_each_kind_each_with_its_own_discard(customer_client, customer):
    drafts = [
        application_draft_start(user=customer, kind=kind)
        for kind in (RESET, ApplicationKind.ADD_CUSTOMS_BROKER_IDS, ApplicationKind.REMOVE_BROKER_IDS)
    ]
    page = Page(customer_client.get(reverse("menu")))
    shown = page.root.find_all(**{"data-field": "draft"})
    assert [node.attrs["data-kind"] for node in shown] == [
        ApplicationKind.ADD_CUSTOMS_BROKER_IDS,
        ApplicationKind.REMOVE_BROKER_IDS,
        RESET,
    ]
    links = {node.attrs["data-kind"]: node.find_all("a")[0].attrs["href"] for node in shown}
    for draft in drafts:
        assert links[draft.kind].startswith(reverse("applications:discard", kwargs={"pk": draft.pk}))
    assert "「パスワードの初期化」から続きを入力できます" in page.text


def test_the_list_shows_a_reset_with_no_dates(customer_client, customer, contract, user_ids):
    application = submitted_reset(contract=contract, targets=user_ids[:1], created_by=customer)
    page = Page(customer_client.get(reverse("applications:application-list")))
    [row] = [
        r
        for r in page.root.find_all("tr")
        if r.attrs.get("data-reception-number") == application.reception_number
    ]
    assert "パスワードの初期化（1件）" in row.text


# --- tenancy --------------------------------------------------------------------------------------------------


def test_another_offices_reset_draft_is_a_404(customer_client):
    other = reset_draft(contract=ContractFactory())
    url = reverse("applications:select-ids", kwargs={"pk": other.pk})
    assert customer_client.get(url).status_code == 404
    assert customer_client.post(url, {"proceed": "1"}).status_code == 404


def test_a_removal_draft_and_a_reset_draft_are_separate(customer):
    removal = application_draft_start(user=customer, kind=ApplicationKind.REMOVE_BROKER_IDS)
    reset = reset_of(customer)
    assert removal.pk != reset.pk and reset_of(customer).pk == reset.pk
