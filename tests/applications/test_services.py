"""Services of the filing journey (SPEC §3): drafts, items, the desired start date and submission."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from applications.exceptions import DomainError, IllegalTransition
from applications.models import Application, ApplicationItem, ApplicationStatus, ReceptionNumberAllocation
from applications.services import (
    application_desired_start_date_set,
    application_draft_start,
    application_item_add,
    application_item_remove,
    application_submit,
)
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    DraftFactory,
    ItemFactory,
    NaccsUserIdFactory,
    StaffFactory,
    method,
)

pytestmark = pytest.mark.django_db

JST = ZoneInfo("Asia/Tokyo")
D = datetime.date

# Tuesday 2027-04-27, 10:00 in Japan: the earliest start date is Fri 4/30
# (4/28 is +1, 昭和の日 is skipped, 4/30 is +2).
NOW = datetime.datetime(2027, 4, 27, 10, 0, tzinfo=JST)
EARLIEST = D(2027, 4, 30)
AFTER_GOLDEN_WEEK = D(2027, 5, 6)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def expected_check_letter(digits: str) -> str:
    """The documented algorithm, written out again so the test does not trust the code it checks."""
    total = sum(int(d) * w for d, w in zip(digits, (8, 7, 6, 5, 4, 3, 2), strict=True))
    return "ABCDEFGHJKLMNPQRSTUVWXY"[total % 23]


def add(draft, *, date=EARLIEST, method_code="interactive", identifier="", broker="通関 花子"):
    return application_item_add(
        application=draft,
        desired_start_date=date,
        processing_method=method(method_code),
        desired_identifier=identifier,
        broker_name=broker,
    )


# --- application_draft_start ---


def test_draft_start_creates_a_draft_prefilled_from_the_account(customer):
    draft = application_draft_start(user=customer)
    assert draft.status == ApplicationStatus.DRAFT
    assert draft.contract == customer.contract
    assert draft.created_by == customer
    assert (
        draft.applicant_name,
        draft.applicant_department,
        draft.applicant_phone,
        draft.applicant_email,
    ) == (
        customer.full_name,
        customer.department,
        customer.phone,
        customer.email,
    )
    assert draft.reception_number is None


def test_draft_start_resumes_the_same_draft(customer):
    first = application_draft_start(user=customer)
    ItemFactory(application=first)
    again = application_draft_start(user=customer)
    assert again.pk == first.pk
    assert Application.objects.filter(created_by=customer).count() == 1
    assert again.items.count() == 1


def test_draft_start_of_another_customer_of_the_same_office_is_their_own(customer):
    colleague = CustomerFactory(contract=customer.contract)
    assert application_draft_start(user=colleague).pk != application_draft_start(user=customer).pk


def test_draft_start_after_submission_starts_a_new_draft(customer):
    first = application_draft_start(user=customer)
    ItemFactory(application=first)
    application_desired_start_date_set(application=first, desired_start_date=EARLIEST)
    application_submit(application=first)
    second = application_draft_start(user=customer)
    assert second.pk != first.pk
    assert second.status == ApplicationStatus.DRAFT


def test_staff_cannot_start_a_draft():
    staff = StaffFactory()
    with pytest.raises(DomainError) as excinfo:
        application_draft_start(user=staff)
    assert excinfo.value.code == "not_customer"
    assert Application.objects.count() == 0


# --- application_item_add ---


def test_item_add_normalises_identifier_and_broker_name_and_keeps_the_date():
    draft = DraftFactory(items=0)
    item = add(draft, identifier="　ｑ１ｚ　", broker="山田　　太郎", date=AFTER_GOLDEN_WEEK)
    item.refresh_from_db()
    assert item.desired_identifier == "Q1Z"
    assert item.broker_name == "山田 太郎"
    assert item.application_id == draft.pk
    draft.refresh_from_db()
    assert draft.desired_start_date == AFTER_GOLDEN_WEEK


def test_item_add_without_identifier_asks_for_one_to_be_allocated():
    draft = DraftFactory(items=0)
    assert add(draft, identifier="").desired_identifier == ""


def test_same_broker_may_have_one_id_per_processing_method():
    draft = DraftFactory(items=0)
    add(draft, method_code="interactive", broker="通関 花子")
    add(draft, method_code="netnaccs", broker="通関 花子")
    assert draft.items.count() == 2


def test_same_broker_written_with_a_full_width_space_is_a_repeat():
    draft = DraftFactory(items=0)
    add(draft, broker="通関 花子")
    with pytest.raises(DomainError) as excinfo:
        add(draft, broker="通関　花子")
    assert excinfo.value.code == "broker_repeated"
    assert draft.items.count() == 1


def test_identifier_typed_in_full_width_lower_case_is_a_repeat_of_the_same_identifier():
    draft = DraftFactory(items=0)
    add(draft, identifier="A0A", broker="通関 一郎")
    with pytest.raises(DomainError) as excinfo:
        add(draft, identifier="ａ０ａ", broker="通関 二郎")
    assert excinfo.value.code == "identifier_repeated"


def _refusal_setups():
    """Each takes a draft already holding A0A for 4/30 and returns (overrides for add(), expected code)."""

    def in_contract(draft):
        NaccsUserIdFactory(contract=draft.contract, identifier="B1B")
        return {"identifier": "ｂ１ｂ"}, "identifier_in_contract"

    def repeated(draft):
        return {"identifier": "a0a"}, "identifier_repeated"

    def bad_shape(draft):
        return {"identifier": "AB"}, "identifier_shape"

    def broker(draft):
        return {"broker": "通関 一郎"}, "broker_repeated"

    def method_not_in_contract(draft):
        draft.contract.processing_methods.set([method("interactive")])
        return {"method_code": "netnaccs"}, "method_not_in_contract"

    def too_many(draft):
        for index in range(19):
            ItemFactory(application=draft, broker_name=f"通関 {index}")
        return {}, "too_many_ids"

    def weekend(draft):
        return {"date": D(2027, 5, 8)}, "not_business_day"

    def holiday(draft):
        return {"date": D(2027, 5, 4)}, "not_business_day"

    def too_early(draft):
        return {"date": D(2027, 4, 28)}, "too_early"

    return [
        in_contract,
        repeated,
        bad_shape,
        broker,
        method_not_in_contract,
        too_many,
        weekend,
        holiday,
        too_early,
    ]


@pytest.mark.parametrize("setup", _refusal_setups(), ids=lambda f: f.__name__)
def test_refused_item_add_saves_nothing_not_even_the_date(setup):
    draft = DraftFactory(items=0)
    add(draft, identifier="A0A", broker="通関 一郎", date=EARLIEST)
    overrides, code = setup(draft)
    items_before = list(draft.items.values_list("pk", flat=True))
    kwargs = {"date": AFTER_GOLDEN_WEEK, "identifier": "", "broker": "通関 新人", **overrides}
    with pytest.raises(DomainError) as excinfo:
        add(draft, **kwargs)
    assert excinfo.value.code == code
    draft.refresh_from_db()
    assert draft.desired_start_date == EARLIEST
    assert list(draft.items.values_list("pk", flat=True)) == items_before


def test_item_add_on_a_submitted_application_is_refused():
    draft = DraftFactory(items=1, desired_start_date=EARLIEST)
    application_submit(application=draft)
    with pytest.raises(IllegalTransition) as excinfo:
        add(draft, broker="通関 遅刻")
    assert excinfo.value.code == "already_submitted"
    assert draft.items.count() == 1


def test_item_add_counts_business_days_from_today_in_japan_not_utc(frozen_clock):
    # 00:30 on Tue 4/27 in Japan is still Mon 4/26 in UTC; counted from Monday, Wed 4/28 would be allowed.
    frozen_clock.move_to(datetime.datetime(2027, 4, 27, 0, 30, tzinfo=JST))
    draft = DraftFactory(items=0)
    with pytest.raises(DomainError) as excinfo:
        add(draft, date=D(2027, 4, 28))
    assert excinfo.value.code == "too_early"
    assert add(draft, date=EARLIEST).pk


# --- application_item_remove ---


def test_item_remove_removes_the_item_from_the_draft():
    draft = DraftFactory(items=2)
    first, second = draft.items.order_by("id")
    application_item_remove(application=draft, item_id=first.pk)
    assert list(draft.items.values_list("pk", flat=True)) == [second.pk]


def test_item_remove_of_another_drafts_item_is_a_no_op():
    draft = DraftFactory(items=1)
    other = DraftFactory(items=1)
    other_item = other.items.get()
    application_item_remove(application=draft, item_id=other_item.pk)
    assert ApplicationItem.objects.filter(pk=other_item.pk, application=other).exists()
    assert draft.items.count() == 1


def test_item_remove_of_an_unknown_id_is_a_no_op():
    draft = DraftFactory(items=1)
    application_item_remove(application=draft, item_id=999_999)
    assert draft.items.count() == 1


def test_item_remove_on_a_submitted_application_is_refused():
    draft = DraftFactory(items=2, desired_start_date=EARLIEST)
    application_submit(application=draft)
    with pytest.raises(IllegalTransition) as excinfo:
        application_item_remove(application=draft, item_id=draft.items.first().pk)
    assert excinfo.value.code == "already_submitted"
    assert draft.items.count() == 2


# --- application_desired_start_date_set ---


def test_desired_start_date_set_needs_at_least_one_id():
    draft = DraftFactory(items=0)
    with pytest.raises(DomainError) as excinfo:
        application_desired_start_date_set(application=draft, desired_start_date=EARLIEST)
    assert excinfo.value.code == "no_ids"
    draft.refresh_from_db()
    assert draft.desired_start_date is None


def test_desired_start_date_set_keeps_a_valid_date():
    draft = DraftFactory(items=1)
    application_desired_start_date_set(application=draft, desired_start_date=AFTER_GOLDEN_WEEK)
    draft.refresh_from_db()
    assert draft.desired_start_date == AFTER_GOLDEN_WEEK


@pytest.mark.parametrize(
    ("day", "code"),
    [(D(2027, 4, 29), "not_business_day"), (D(2027, 4, 28), "too_early"), (D(2027, 7, 28), "too_late")],
)
def test_desired_start_date_set_refuses_an_invalid_date_and_keeps_the_old_one(day, code):
    draft = DraftFactory(items=1, desired_start_date=EARLIEST)
    with pytest.raises(DomainError) as excinfo:
        application_desired_start_date_set(application=draft, desired_start_date=day)
    assert (excinfo.value.field, excinfo.value.code) == ("desired_start_date", code)
    draft.refresh_from_db()
    assert draft.desired_start_date == EARLIEST


# --- application_submit ---


def test_submit_files_the_application_with_status_reception_number_and_time(
    django_capture_on_commit_callbacks,
):
    draft = DraftFactory(items=2, desired_start_date=EARLIEST)
    with django_capture_on_commit_callbacks(execute=True):
        application_submit(application=draft)
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.SUBMITTED
    assert re.fullmatch(r"[0-9]{7}[A-Z]", draft.reception_number)
    assert draft.reception_number[7] == expected_check_letter(draft.reception_number[:7])
    assert draft.submitted_at == NOW
    assert ReceptionNumberAllocation.objects.count() == 1


def test_submit_returns_the_filed_application():
    draft = DraftFactory(items=1, desired_start_date=EARLIEST)
    filed = application_submit(application=draft)
    assert filed.pk == draft.pk
    assert filed.status == ApplicationStatus.SUBMITTED
    assert filed.reception_number == Application.objects.get(pk=draft.pk).reception_number


def test_submit_sends_exactly_one_receipt_email_to_the_applicant_after_commit(
    django_capture_on_commit_callbacks,
):
    draft = DraftFactory(items=1, desired_start_date=EARLIEST, applicant_email="hanako@example.com")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        application_submit(application=draft)
    # Nothing leaves before the transaction commits.
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    draft.refresh_from_db()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["hanako@example.com"]
    assert draft.reception_number in message.subject
    assert draft.reception_number in message.body
    assert "2027年4月30日" in message.body


def test_two_submissions_get_two_different_reception_numbers():
    first = application_submit(application=DraftFactory(items=1, desired_start_date=EARLIEST))
    second = application_submit(application=DraftFactory(items=1, desired_start_date=EARLIEST))
    assert first.reception_number != second.reception_number


def test_second_submit_of_the_same_draft_files_nothing(django_capture_on_commit_callbacks):
    draft = DraftFactory(items=1, desired_start_date=EARLIEST)
    with django_capture_on_commit_callbacks(execute=True):
        first = application_submit(application=draft)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(IllegalTransition) as excinfo,
    ):
        application_submit(application=draft)  # the stale object from before the first submit
    assert excinfo.value.code == "already_submitted"
    assert first.reception_number in excinfo.value.message
    assert callbacks == []
    assert len(mail.outbox) == 1
    assert ReceptionNumberAllocation.objects.count() == 1
    draft.refresh_from_db()
    assert draft.reception_number == first.reception_number
    assert Application.objects.filter(status=ApplicationStatus.SUBMITTED).count() == 1


def test_the_last_reception_number_is_handed_out_then_submission_is_refused_and_files_nothing(
    django_capture_on_commit_callbacks, reception_numbers_exhaust
):
    reception_numbers_exhaust(left=1)
    last = application_submit(application=DraftFactory(items=1, desired_start_date=EARLIEST))
    assert last.reception_number == "9999999S"

    draft = DraftFactory(items=1, desired_start_date=EARLIEST)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DomainError) as refused,
    ):
        application_submit(application=draft)
    assert refused.value.code == "reception_numbers_exhausted"
    assert callbacks == []
    assert not ReceptionNumberAllocation.objects.filter(pk__gt=8_999_999).exists()
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT
    assert draft.reception_number is None
    assert draft.submitted_at is None


def test_draft_whose_date_became_too_early_is_refused_at_submit_and_stays_a_draft(
    frozen_clock, django_capture_on_commit_callbacks
):
    draft = DraftFactory(items=0)
    add(draft, date=EARLIEST)  # valid on Tue 4/27
    frozen_clock.move_to(datetime.datetime(2027, 4, 28, 9, 0, tzinfo=JST))  # now the earliest is Thu 5/6
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DomainError) as excinfo,
    ):
        application_submit(application=draft)
    assert (excinfo.value.field, excinfo.value.code) == ("desired_start_date", "too_early")
    assert "2027年5月6日" in excinfo.value.message
    assert draft.reception_number is None
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT
    assert draft.reception_number is None
    assert draft.submitted_at is None
    assert ReceptionNumberAllocation.objects.count() == 0
    assert callbacks == []
    assert mail.outbox == []


def test_identifier_issued_to_the_contract_after_it_was_set_is_refused_at_submit(
    django_capture_on_commit_callbacks,
):
    draft = DraftFactory(items=0)
    add(draft, identifier="Y27", date=EARLIEST)
    # Issued meanwhile, e.g. by the approval of another application.
    NaccsUserIdFactory(contract=draft.contract, identifier="Y27")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError) as excinfo:
        application_submit(application=draft)
    assert excinfo.value.code == "identifier_in_contract"
    assert "Y27" in excinfo.value.message
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT
    assert draft.reception_number is None
    assert mail.outbox == []


def test_processing_method_removed_from_the_contract_is_refused_at_submit():
    contract = ContractFactory(methods=["interactive", "netnaccs"])
    draft = DraftFactory(contract=contract, items=0)
    add(draft, method_code="netnaccs", date=EARLIEST)
    contract.processing_methods.set([method("interactive")])
    with pytest.raises(DomainError) as excinfo:
        application_submit(application=draft)
    assert excinfo.value.code == "method_not_in_contract"
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT


def test_submit_without_any_id_is_refused():
    draft = DraftFactory(items=0, desired_start_date=EARLIEST)
    with pytest.raises(DomainError) as excinfo:
        application_submit(application=draft)
    assert excinfo.value.code == "no_ids"
    assert Application.objects.get(pk=draft.pk).status == ApplicationStatus.DRAFT


def test_submit_without_a_desired_start_date_is_refused():
    draft = DraftFactory(items=1, desired_start_date=None)
    with pytest.raises(DomainError) as excinfo:
        application_submit(application=draft)
    assert (excinfo.value.field, excinfo.value.code) == ("desired_start_date", "required")


@pytest.mark.parametrize("missing", ["applicant_name", "applicant_email", "applicant_phone"])
def test_submit_without_the_applicant_contact_is_refused(missing):
    draft = DraftFactory(items=1, desired_start_date=EARLIEST, **{missing: ""})
    with pytest.raises(DomainError) as excinfo:
        application_submit(application=draft)
    assert excinfo.value.code == "applicant_missing"
    assert ReceptionNumberAllocation.objects.count() == 0
