"""Drafts expire (NSS_DRAFT_EXPIRY_DAYS, 30): kept that many whole days after the day of their last change, deleted
on the day after, their creator e-mailed NSS_DRAFT_EXPIRY_WARNING_DAYS (5) days before — once; the menu says the
day. The sweep is the beat task `application_drafts_expire_task`."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from applications import clock, rules, services
from applications.exceptions import DomainError
from applications.models import Application, ApplicationItem, ApplicationStatus
from applications.tasks import application_drafts_expire_task
from notifications.models import Email
from nss_portal.celery import app as celery_app
from tests.factories import DraftFactory, ItemFactory, submitted_application
from tests.html import Page
from tests.threads import race

pytestmark = pytest.mark.django_db

JST = clock.JST
D = datetime.date
# The draft is made at FROZEN_AT, Mon 2026-11-16 10:00 in Japan: kept 11/17–12/16 (30 days), deleted on 12/17, its
# creator e-mailed on 12/12.
DELETION_DAY = D(2026, 12, 17)
WARNING_DAY = D(2026, 12, 12)


def at(day: datetime.date, hour: int = 0, minute: int = 30) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST)


@pytest.fixture
def draft(frozen_clock, customer):
    draft = DraftFactory(contract=customer.contract, created_by=customer, items=0)
    ItemFactory(application=draft, broker_name="通関 一郎")
    ItemFactory(application=draft, broker_name="通関 二郎")
    return draft


def sweep() -> tuple[int, int]:
    expiry = services.application_drafts_expire()
    return expiry.warned, expiry.deleted


def warnings_of(draft) -> list[Email]:
    return list(Email.objects.filter(kind="draft_expiry_warning", topic="draft", topic_id=draft.pk))


def exists(draft) -> bool:
    return Application.objects.filter(pk=draft.pk).exists()


# --- the day (rules.draft_deletion_date) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_changed", "deletion_day"),
    [
        (at(D(2026, 11, 16), 10, 0), D(2026, 12, 17)),
        (at(D(2026, 11, 16), 0, 0), D(2026, 12, 17)),
        (datetime.datetime(2026, 11, 16, 23, 59, 59, tzinfo=JST), D(2026, 12, 17)),
        (at(D(2026, 11, 17), 0, 0), D(2026, 12, 18)),
        # the day in Japan, whatever the server's zone: 15:00 UTC is already 11/17 00:00 in Japan
        (datetime.datetime(2026, 11, 16, 15, 0, tzinfo=datetime.UTC), D(2026, 12, 18)),
    ],
)
def test_a_draft_is_kept_thirty_whole_days_after_the_day_of_its_last_change(last_changed, deletion_day):
    assert rules.draft_deletion_date(last_changed=last_changed) == deletion_day


def test_a_late_warning_moves_the_day_so_that_it_still_comes_five_days_ahead():
    changed = at(D(2026, 11, 16), 10, 0)
    assert rules.draft_deletion_date(last_changed=changed, warned_at=at(D(2026, 12, 12))) == D(2026, 12, 17)
    assert rules.draft_deletion_date(last_changed=changed, warned_at=at(D(2026, 12, 27))) == D(2027, 1, 1)
    # a warning about an earlier version of the draft counts for nothing
    assert rules.draft_deletion_date(last_changed=changed, warned_at=at(D(2026, 11, 1))) == D(2026, 12, 17)


def test_the_days_follow_the_settings(settings):
    settings.NSS_DRAFT_EXPIRY_DAYS = 10
    settings.NSS_DRAFT_EXPIRY_WARNING_DAYS = 2
    changed = at(D(2026, 11, 16), 10, 0)
    assert rules.draft_deletion_date(last_changed=changed) == D(2026, 11, 27)
    assert rules.draft_deletion_date(last_changed=changed, warned_at=at(D(2026, 11, 26))) == D(2026, 11, 28)


# --- the warning ----------------------------------------------------------------------------------------------


def test_nothing_is_sent_before_the_warning_day(draft, frozen_clock):
    frozen_clock.move_to(at(WARNING_DAY - datetime.timedelta(days=1), 23, 59))
    assert sweep() == (0, 0)
    assert warnings_of(draft) == []


def test_the_creator_is_warned_once_five_days_before_the_day(draft, frozen_clock, customer):
    frozen_clock.move_to(at(WARNING_DAY))
    changed = Application.objects.get(pk=draft.pk).updated_at

    assert sweep() == (1, 0)
    assert sweep() == (0, 0)  # idempotent: the same sweep again sends nothing
    frozen_clock.move_to(at(WARNING_DAY + datetime.timedelta(days=2), 12, 0))
    assert sweep() == (0, 0)

    [email] = warnings_of(draft)
    assert email.to == customer.email
    assert email.subject.startswith("【NSS】")
    assert "2026年12月17日" in email.subject
    assert "2026年12月17日に削除されます" in email.body_text
    assert "30日間変更がない" in email.body_text
    assert "2件" in email.body_text  # the IDs set in it
    assert f"{settings.NSS_BASE_URL}{reverse('login')}" in email.body_text
    assert customer.full_name in email.body_text and customer.contract.company_name in email.body_text
    assert "2026年12月17日" in email.body_html
    refreshed = Application.objects.get(pk=draft.pk)
    assert refreshed.updated_at == changed  # being warned is no change of the draft
    assert refreshed.expiry_warned_at == at(WARNING_DAY)


def test_the_warning_goes_out_through_the_outbox_after_commit(
    draft, frozen_clock, customer, django_capture_on_commit_callbacks
):
    frozen_clock.move_to(at(WARNING_DAY))
    with django_capture_on_commit_callbacks(execute=True):
        sweep()
    [message] = mail.outbox
    assert message.to == [customer.email]
    assert message.subject.startswith("【NSS】作成中の申込（下書き）の削除予定のお知らせ")
    assert warnings_of(draft)[0].status == "sent"


def test_a_stopped_creator_gets_no_email_and_the_draft_still_goes_on_its_day(draft, frozen_clock, customer):
    customer.is_active = False
    customer.save()
    frozen_clock.move_to(at(WARNING_DAY))
    assert sweep() == (0, 0)
    assert warnings_of(draft) == []
    assert Application.objects.get(pk=draft.pk).expiry_warned_at is not None
    frozen_clock.move_to(at(DELETION_DAY))
    assert sweep() == (0, 1)


# --- the deletion ---------------------------------------------------------------------------------------------


def test_the_draft_is_deleted_with_its_ids_on_its_day_and_not_before(draft, frozen_clock):
    item_ids = list(draft.items.values_list("pk", flat=True))
    frozen_clock.move_to(at(WARNING_DAY))
    sweep()
    frozen_clock.move_to(at(DELETION_DAY - datetime.timedelta(days=1), 23, 59))
    assert sweep() == (0, 0)
    assert exists(draft)

    frozen_clock.move_to(at(DELETION_DAY, 0, 1))
    assert sweep() == (0, 1)
    assert not exists(draft)
    assert not ApplicationItem.objects.filter(pk__in=item_ids).exists()
    assert sweep() == (0, 0)
    assert len(warnings_of(draft)) == 1  # the e-mail stays in the outbox, the one sent


def test_a_sweep_that_did_not_run_for_weeks_warns_before_it_deletes(draft, frozen_clock):
    frozen_clock.move_to(at(D(2026, 12, 27)))  # ten days past the day, never warned
    assert sweep() == (1, 0)
    assert exists(draft)
    assert "2027年1月1日に削除されます" in warnings_of(draft)[0].body_text
    frozen_clock.move_to(at(D(2026, 12, 31), 23, 0))
    assert sweep() == (0, 0)
    frozen_clock.move_to(at(D(2027, 1, 1)))
    assert sweep() == (0, 1)


def test_a_change_after_the_warning_starts_the_expiry_again_with_a_new_warning(draft, frozen_clock):
    frozen_clock.move_to(at(WARNING_DAY))
    sweep()
    frozen_clock.move_to(at(D(2026, 12, 14), 10, 0))
    services.application_applicant_set(
        application=draft, name="山田 花子", department="通関部", phone="03-1234-5678", email="h@example.com"
    )

    frozen_clock.move_to(at(DELETION_DAY))
    assert sweep() == (0, 0)
    assert exists(draft)
    # changed on 12/14: kept through 1/13, deleted on 1/14, warned again on 1/9
    frozen_clock.move_to(at(D(2027, 1, 9)))
    assert sweep() == (1, 0)
    assert "2027年1月14日に削除されます" in warnings_of(draft)[-1].body_text
    assert len(warnings_of(draft)) == 2
    frozen_clock.move_to(at(D(2027, 1, 14)))
    assert sweep() == (0, 1)


def test_removing_an_id_is_a_change_of_the_draft(draft, frozen_clock):
    frozen_clock.move_to(at(D(2026, 12, 1), 9, 0))
    services.application_item_remove(application=draft, item_id=draft.items.first().pk)
    refreshed = Application.objects.get(pk=draft.pk)
    assert rules.draft_deletion_date(last_changed=refreshed.updated_at) == D(2027, 1, 1)
    # an id that is not this draft's removes nothing and changes nothing
    services.application_item_remove(application=draft, item_id=0)
    assert Application.objects.get(pk=draft.pk).updated_at == refreshed.updated_at


def test_submitted_applications_are_never_touched(frozen_clock):
    application = submitted_application()
    frozen_clock.move_to(at(D(2027, 6, 1)))
    assert sweep() == (0, 0)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.expiry_warned_at is None


def test_a_draft_deleted_by_the_sweep_refuses_a_late_post_with_a_message(draft, frozen_clock):
    stale = Application.objects.get(pk=draft.pk)
    frozen_clock.move_to(at(WARNING_DAY))
    sweep()
    frozen_clock.move_to(at(DELETION_DAY))
    sweep()
    with pytest.raises(DomainError) as refused:
        services.application_desired_start_date_set(application=stale, desired_start_date=D(2027, 1, 5))
    assert refused.value.code == "draft_deleted"


# --- the task and the menu ------------------------------------------------------------------------------------


def test_the_sweep_is_a_task_on_the_beat_schedule(draft, frozen_clock):
    entries = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    task = "applications.tasks.application_drafts_expire_task"
    assert task in entries and task in celery_app.tasks
    assert entries[task]["schedule"] <= 3600  # hourly at most: the deletion comes early on its day
    frozen_clock.move_to(at(WARNING_DAY))
    assert application_drafts_expire_task() == (1, 0)


def test_the_menu_says_when_the_draft_will_be_deleted(draft, customer_client, customer, frozen_clock):
    page = Page(customer_client.get(reverse("menu")))
    assert page.root.find_all(**{"data-field": "draft_deletion_date"})[0].text.startswith(
        "下書きは2026年12月17日に削除されます。"
    )
    assert "最後に変更した日の翌日から30日間保存します" in page.text
    # warned late (the sweep did not run): the menu shows the day the warning gave
    frozen_clock.move_to(at(D(2026, 12, 27)))
    sweep()
    customer_client.force_login(customer)  # the session of six weeks ago has ended
    page = Page(customer_client.get(reverse("menu")))
    assert "下書きは2027年1月1日に削除されます。" in page.text


# --- races on the real PostgreSQL -----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_one_email_and_delete_once(require_postgres, frozen_clock, contract):
    drafts = [DraftFactory(contract=contract) for _ in range(5)]
    frozen_clock.move_to(at(WARNING_DAY))
    results, errors = race(lambda index: sweep(), 4, no_thread_may_hang=True)
    assert errors == [None] * 4
    assert sum(warned for warned, _deleted in results) == 5
    assert all(len(warnings_of(draft)) == 1 for draft in drafts)

    frozen_clock.move_to(at(DELETION_DAY))
    results, errors = race(lambda index: sweep(), 4, no_thread_may_hang=True)
    assert errors == [None] * 4
    assert sum(deleted for _warned, deleted in results) == 5
    assert not Application.objects.filter(pk__in=[draft.pk for draft in drafts]).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_submission_racing_the_deletion_is_either_filed_or_refused_never_deleted_once_filed(
    require_postgres, frozen_clock, contract
):
    drafts = [DraftFactory(contract=contract) for _ in range(6)]
    frozen_clock.move_to(at(WARNING_DAY))
    sweep()
    frozen_clock.move_to(at(DELETION_DAY, 9, 0))
    start = rules.earliest_start_date(clock.today())
    Application.objects.filter(pk__in=[draft.pk for draft in drafts]).update(desired_start_date=start)

    def act(index):
        if index == 0:
            return sweep()
        return services.application_submit(application=drafts[index - 1]).status

    results, errors = race(act, len(drafts) + 1, no_thread_may_hang=True)

    assert errors[0] is None
    for draft, error in zip(drafts, errors[1:], strict=True):
        row = Application.objects.filter(pk=draft.pk).first()
        if error is None:
            assert row is not None and row.status == ApplicationStatus.SUBMITTED  # filed, and kept
        else:
            assert isinstance(error, DomainError) and error.code == "draft_deleted", error
            assert row is None
    assert results[0][1] == sum(error is not None for error in errors[1:])
