"""パスワードの初期化 (SPEC §9, §10), the centre's side and its effect: 承認内容を確認する and approval (a new initial
password per ID at once, no date), the audit trail, the result e-mail (no password in it), the ID notice of the
reset and of the application that issued the ID before, the retention of the new password, and the UTB gateway
(the old password refused at once, its sessions ended, U0001 with the new one until it is changed)."""

import base64
import datetime
import json

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from applications import audit, clock, crypto, passwords
from applications.exceptions import DomainError
from applications.models import ApplicationKind, ApplicationStatus, NaccsUserId
from applications.services import initial_passwords_destroy
from reviews import selectors
from reviews.services import application_approve, application_release, application_take, approval_plan
from tests.factories import (
    approve_on_screens,
    staff_in,
    submitted_application,
    submitted_reset,
)
from tests.html import Page
from tests.utb_gateway import READY_PASSWORD, ready_id
from utb_gateway import result_codes as rc
from utb_gateway.services import (
    UtbLoginError,
    naccs_id_authenticate,
    naccs_id_u0001_reason,
    naccs_password_change,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

APPROVED_SUBJECT = "【NSS】利用申込確認完了のお知らせ"
ADDRESS = "192.0.2.10"


@pytest.fixture
def targets(contract):
    """Two working IDs of the office (started, password changed long ago): a 通関士ID and an ordinary one."""
    return [
        ready_id(contract, identifier="A0A", broker_name="通関 一郎"),
        ready_id(contract, identifier="G01", is_customs_broker=False),
    ]


@pytest.fixture
def reset(contract, targets):
    application = submitted_reset(contract=contract, targets=targets[:1])
    return application_take(application=application, actor=staff_in("reviewer"))


def _approve(application, **kwargs):
    return application_approve(application=application, actor=staff_in("approver"), **kwargs)


def _taken_and_approved(application):
    return _approve(application_take(application=application, actor=staff_in("reviewer")))


def _new_password(naccs_id: NaccsUserId) -> str:
    naccs_id.refresh_from_db()
    return crypto.decrypt(naccs_id.initial_password_encrypted)


def _authenticates(naccs_id, password) -> bool:
    try:
        naccs_id_authenticate(user_id=naccs_id.naccs_user_id, password=password, client_address=ADDRESS)
    except UtbLoginError:
        return False
    return True


# --- the plan and approval ------------------------------------------------------------------------------------


def test_the_plan_names_the_ids_and_has_no_date(reset, contract):
    plan = approval_plan(application=reset, actor=staff_in("approver"))
    assert plan.start_date is None and plan.notice_text is None and plan.warnings == []
    assert [planned.naccs_user_id for planned in plan.ids] == [f"{contract.user_code}A0A"]
    assert plan.confirmation


def test_the_plan_changes_nothing(reset, targets):
    before = NaccsUserId.objects.get(pk=targets[0].pk)
    approval_plan(application=reset, actor=staff_in("approver"))
    after = NaccsUserId.objects.get(pk=targets[0].pk)
    assert (after.password_hash, after.initial_password_encrypted) == (before.password_hash, "")
    reset.refresh_from_db()
    assert reset.status == ApplicationStatus.UNDER_REVIEW


def test_approval_makes_a_new_initial_password_for_each_chosen_id_at_once(reset, targets, frozen_clock):
    old_hash = targets[0].password_hash
    reset_ids = _approve(reset)
    assert [naccs_id.pk for naccs_id in reset_ids] == [targets[0].pk]
    reset.refresh_from_db()
    assert reset.status == ApplicationStatus.APPROVED and reset.decided_at == clock.now()
    assert reset.start_date is None and reset.end_date is None
    target = NaccsUserId.objects.get(pk=targets[0].pk)
    assert target.password_hash != old_hash
    assert target.password_changed_at is None
    assert target.password_issued_by_id == reset.pk and target.password_issued_at == clock.now()
    new = crypto.decrypt(target.initial_password_encrypted)
    assert passwords.naccs_password_problem(new) is None
    assert not set(new) & passwords.LOOK_ALIKES
    assert passwords.check_naccs_password(new, target.password_hash)
    # The ID that was not chosen is as it was.
    untouched = NaccsUserId.objects.get(pk=targets[1].pk)
    assert untouched.password_hash == targets[1].password_hash and untouched.password_changed_at is not None


def test_approval_is_refused_with_a_stale_confirmation_and_nothing_is_reset(reset, targets):
    plan = approval_plan(application=reset, actor=staff_in("approver"))
    application_release(application=reset, actor=staff_in("approver"))
    application_take(application=reset, actor=staff_in("reviewer"))
    with pytest.raises(DomainError) as refused:
        _approve(reset, confirmation=plan.confirmation, seen_status=ApplicationStatus.UNDER_REVIEW)
    assert refused.value.code == "stale_confirmation"
    assert NaccsUserId.objects.get(pk=targets[0].pk).password_hash == targets[0].password_hash


def test_the_four_eyes_rule_holds_for_a_reset(contract, targets, settings):
    settings.NSS_FOUR_EYES = True
    approver = staff_in("approver")
    application = application_take(
        application=submitted_reset(contract=contract, targets=targets[:1]), actor=approver
    )
    with pytest.raises(DomainError) as refused:
        application_approve(application=application, actor=approver)
    assert refused.value.code == "four_eyes_same_person"
    assert NaccsUserId.objects.get(pk=targets[0].pk).password_hash == targets[0].password_hash


def test_approval_is_audited_with_the_reset_ids_and_no_password(reset, contract):
    _approve(reset)
    [approval] = [
        entry
        for entry in selectors.audit_trail(application=reset)
        if entry.additional_data.get("action") == "application_approve_reset"
    ]
    assert approval.additional_data["reset"] == [f"{contract.user_code}A0A"]
    lines = audit.trail_lines([approval])[0]
    text = " ".join(f"{line.label} {line.value} {line.old} {line.new}" for line in lines)
    assert f"{contract.user_code}A0A" in text and "パスワードを初期化した利用者ID" in text
    assert _new_password(NaccsUserId.objects.get(identifier="A0A", contract=contract)) not in str(
        approval.additional_data
    )


def test_the_result_email_names_the_ids_and_never_the_password(
    reset, contract, targets, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _approve(reset)
    [message] = [m for m in mail.outbox if m.subject == APPROVED_SUBJECT]
    assert "申込種別：パスワードの初期化" in message.body
    assert f"{contract.user_code}A0A" in message.body and "ID通知内容" in message.body
    new = _new_password(targets[0])
    assert new not in message.body and new not in message.alternatives[0][0]
    assert "利用開始日" not in message.body


# --- the UTB gateway ------------------------------------------------------------------------------------------


def test_the_old_password_is_refused_at_once_and_the_new_one_answers_u0001_until_changed(reset, targets):
    assert _authenticates(targets[0], READY_PASSWORD)
    _approve(reset)
    target = NaccsUserId.objects.get(pk=targets[0].pk)
    assert not _authenticates(target, READY_PASSWORD)
    new = _new_password(target)
    assert _authenticates(target, new)
    assert naccs_id_u0001_reason(target, today=clock.today()) == "パスワードが未変更です。"
    naccs_password_change(naccs_id=target, current_password=new, new_password="NEWPW234")
    target.refresh_from_db()
    assert naccs_id_u0001_reason(target, today=clock.today()) is None
    assert target.initial_password_encrypted == ""


def _api_utb(client, naccs_id, password):
    token = base64.b64encode(f"{naccs_id.naccs_user_id}:{password}".encode()).decode()
    return client.post(
        reverse("utb_gateway:api-utb"),
        data=json.dumps({"user_id": naccs_id.naccs_user_id, "licence_number": "12345"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {token}",
    )


def test_through_the_api_the_old_password_is_refused_and_the_new_one_answers_u0001(reset, targets):
    client = Client()
    assert _api_utb(client, targets[0], READY_PASSWORD).json()["result_code"] == rc.OK.code
    _approve(reset)
    assert _api_utb(client, targets[0], READY_PASSWORD).status_code == 401
    answer = _api_utb(client, targets[0], _new_password(targets[0]))
    assert answer.status_code == 200 and answer.json()["result_code"] == rc.U0001.code


def test_a_gateway_session_of_the_old_password_ends_with_the_reset(reset, targets):
    client = Client()
    client.post(
        reverse("utb_gateway:login"), {"user_id": targets[0].naccs_user_id, "password": READY_PASSWORD}
    )
    assert client.get(reverse("utb_gateway:menu")).status_code == 200
    _approve(reset)
    after = client.get(reverse("utb_gateway:menu"))
    assert after.status_code == 302 and after.url.startswith(reverse("utb_gateway:login"))
    login = client.post(
        reverse("utb_gateway:login"),
        {"user_id": targets[0].naccs_user_id, "password": _new_password(targets[0])},
    )
    assert login.url == reverse("utb_gateway:password")


# --- the ID notice ---------------------------------------------------------------------------------------------


def _notice(client, application):
    response = client.get(reverse("applications:id-notice", kwargs={"pk": application.pk}))
    assert response.status_code == 200
    return Page(response)


def _cell(page, naccs_user_id, field):
    [row] = [node for node in page.root.iter() if node.attrs.get("data-issued-id") == naccs_user_id]
    return [node for node in row.iter() if node.attrs.get("data-field") == field]


def test_the_reset_has_an_id_notice_with_the_new_password(customer_client, reset, targets):
    _approve(reset)
    page = _notice(customer_client, reset)
    assert "パスワードを初期化した利用者ID" in page.text and "パスワードの初期化" in page.text
    [shown] = _cell(page, targets[0].naccs_user_id, "initial_password")
    assert shown.text == _new_password(targets[0])
    assert targets[1].naccs_user_id not in page.text
    detail = Page(customer_client.get(reverse("applications:application-detail", kwargs={"pk": reset.pk})))
    assert detail.href_of("ID通知内容") == reverse("applications:id-notice", kwargs={"pk": reset.pk})
    assert targets[0].naccs_user_id in detail.root.find_all(**{"data-field": "reset_ids"})[0].text


def test_after_the_change_the_reset_notice_says_changed(customer_client, reset, targets):
    _approve(reset)
    target = NaccsUserId.objects.get(pk=targets[0].pk)
    naccs_password_change(naccs_id=target, current_password=_new_password(target), new_password="NEWPW234")
    page = _notice(customer_client, reset)
    assert _cell(page, target.naccs_user_id, "password_changed")
    assert not _cell(page, target.naccs_user_id, "initial_password")


def test_the_addition_that_issued_the_id_no_longer_shows_its_initial_password(
    customer_client, contract, settings
):
    settings.NSS_FOUR_EYES = False
    addition = submitted_application(contract=contract)
    [issued] = _taken_and_approved(addition)
    assert _cell(_notice(customer_client, addition), issued.naccs_user_id, "initial_password")
    reset = submitted_reset(contract=contract, targets=[issued])
    _taken_and_approved(reset)
    page = _notice(customer_client, addition)
    assert _cell(page, issued.naccs_user_id, "password_reset_later")
    assert not _cell(page, issued.naccs_user_id, "initial_password")
    assert "「初期化済み」" in page.text
    assert _cell(_notice(customer_client, reset), issued.naccs_user_id, "initial_password")


def test_a_second_reset_replaces_the_first_ones_password(customer_client, contract, targets, settings):
    settings.NSS_FOUR_EYES = False
    first = submitted_reset(contract=contract, targets=targets[:1])
    _taken_and_approved(first)
    first_password = _new_password(targets[0])
    second = submitted_reset(contract=contract, targets=targets[:1])
    _taken_and_approved(second)
    second_password = _new_password(targets[0])
    assert first_password != second_password
    assert not _authenticates(targets[0], first_password)
    assert _cell(_notice(customer_client, first), targets[0].naccs_user_id, "password_reset_later")
    [shown] = _cell(_notice(customer_client, second), targets[0].naccs_user_id, "initial_password")
    assert shown.text == second_password


def test_the_retention_of_the_new_password_counts_from_the_reset(reset, targets, frozen_clock, settings):
    """The ID was created months ago; its new initial password is kept NSS_INITIAL_PASSWORD_RETENTION_DAYS from
    the reset, not from the ID's creation."""
    NaccsUserId.objects.filter(pk=targets[0].pk).update(created_at=clock.now() - datetime.timedelta(days=400))
    _approve(reset)
    assert initial_passwords_destroy() == 0
    assert NaccsUserId.objects.get(pk=targets[0].pk).initial_password_encrypted
    frozen_clock.shift(datetime.timedelta(days=settings.NSS_INITIAL_PASSWORD_RETENTION_DAYS, seconds=1))
    assert initial_passwords_destroy() == 1
    assert NaccsUserId.objects.get(pk=targets[0].pk).initial_password_encrypted == ""


def test_a_reset_of_another_office_has_no_id_notice_for_this_one(customer_client, targets):
    from tests.factories import ContractFactory

    other = ContractFactory()
    application = submitted_reset(contract=other, targets=[ready_id(other, identifier="A0A")])
    _taken_and_approved(application)
    response = customer_client.get(reverse("applications:id-notice", kwargs={"pk": application.pk}))
    assert response.status_code == 404


def test_an_open_reset_has_no_id_notice(customer_client, reset):
    response = customer_client.get(reverse("applications:id-notice", kwargs={"pk": reset.pk}))
    assert response.status_code == 404


# --- the staff screens and the queue ---------------------------------------------------------------------------


def test_staff_approve_a_reset_on_the_screens(staff_client, reviewer, contract, targets, settings):
    settings.NSS_FOUR_EYES = False
    application = submitted_reset(contract=contract, targets=targets)
    application_take(application=application, actor=reviewer)
    detail = Page(staff_client.get(reverse("reviews:application", kwargs={"pk": application.pk})))
    assert not detail.root.find_all("input", type="date")
    assert "承認内容を確認する" in detail.buttons()
    confirm = Page(
        staff_client.get(
            reverse("reviews:approve-confirm", kwargs={"pk": application.pk}), {"seen_status": "under_review"}
        )
    )
    assert confirm.screen == "staff-approve-confirm"
    assert "承認する（パスワードを初期化する）" in confirm.buttons()
    assert f"{contract.user_code}A0A" in confirm.text and f"{contract.user_code}G01" in confirm.text
    done = Page(approve_on_screens(staff_client, application))
    assert "2件の利用者IDのパスワードを初期化しました。" in done.text
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert NaccsUserId.objects.filter(password_issued_by=application).count() == 2


def test_an_approval_post_without_its_confirmation_is_refused(
    staff_client, reviewer, contract, targets, settings
):
    settings.NSS_FOUR_EYES = False
    application = application_take(
        application=submitted_reset(contract=contract, targets=targets[:1]), actor=reviewer
    )
    response = staff_client.post(
        reverse("reviews:approve", kwargs={"pk": application.pk}), {"seen_status": "under_review"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW


def test_the_queue_filters_resets(reset, contract):
    addition = submitted_application(contract=contract)
    today = clock.today()
    assert list(selectors.queue_filtered(kind=ApplicationKind.RESET_PASSWORDS, today=today)) == [reset]
    assert addition not in selectors.queue_filtered(kind=ApplicationKind.RESET_PASSWORDS, today=today)


def test_the_queue_screen_shows_a_reset(staff_client, reset):
    page = Page(staff_client.get(reverse("reviews:queue"), {"kind": ApplicationKind.RESET_PASSWORDS}))
    assert reset.reception_number in page.text and "パスワードの初期化" in page.text


def test_the_migration_gives_every_issued_password_its_issuing_application(contract, settings):
    """Migration 0019: IDs issued before resets existed get the addition that issued them and their creation
    time, so their ID notice keeps showing the initial password; an imported ID (no password) gets nothing."""
    import importlib

    from django.apps import apps

    settings.NSS_FOUR_EYES = False
    [issued] = _taken_and_approved(submitted_application(contract=contract))
    imported = ready_id(contract, identifier="M01", password_changed_at=None)
    imported.password_hash = ""
    imported.save()
    NaccsUserId.objects.update(password_issued_by=None, password_issued_at=None)
    migration = importlib.import_module("applications.migrations.0019_reset_passwords")
    migration.password_issuers_backfill(apps, None)
    issued.refresh_from_db()
    imported.refresh_from_db()
    assert (
        issued.password_issued_by_id == issued.issued_by_id and issued.password_issued_at == issued.created_at
    )
    assert imported.password_issued_by_id is None and imported.password_issued_at is None


@pytest.mark.usefixtures("require_pdf")
def test_the_pdf_of_a_resets_notice_carries_the_new_password_and_is_audited(customer_client, reset, targets):
    from tests.applications.test_id_notice_pdf import read_pdf, text_of

    _approve(reset)
    response = customer_client.get(reverse("applications:id-notice-pdf", kwargs={"pk": reset.pk}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = text_of(read_pdf(response))
    assert _new_password(targets[0]) in text and "パスワードを初期化した利用者ID" in "".join(text.split())
    actions = [entry.additional_data.get("action") for entry in selectors.audit_trail(application=reset)]
    assert "id_notice_pdf_download" in actions
