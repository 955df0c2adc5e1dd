"""利用開始 is derived from the confirmed start date (SPEC §4), shown wherever the status is."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from applications import business_calendar, passwords
from applications.clock import JST
from applications.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    choice_label,
    start_date_reached,
)
from reviews.services import application_approve, application_take
from tests.factories import FROZEN_AT, NaccsUserIdFactory, submitted_application
from utb_gateway.result_codes import U0001
from utb_gateway.services import UtbLoginError
from utb_gateway.services import naccs_id_screen_login as screen_login

pytestmark = pytest.mark.django_db


def test_an_approved_application_reads_riyou_kaishi_from_its_start_date(customer_client, customer, reviewer):
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        application = submitted_application(contract=customer.contract, created_by=customer)
        application_take(application=application, actor=reviewer)
        application_approve(application=application, actor=reviewer)
        application.refresh_from_db()
        assert application.status_label == "審査終了"
        before = customer_client.get(reverse("applications:application-list")).content.decode()
        assert "審査終了" in before and "利用開始</td>" not in before

        day_before = application.start_date - datetime.timedelta(days=1)
        traveller.move_to(datetime.datetime.combine(day_before, datetime.time(23, 59), tzinfo=JST))
        assert application.status_label == "審査終了"

        traveller.move_to(datetime.datetime.combine(application.start_date, datetime.time(0, 0), tzinfo=JST))
        assert application.status_label == "利用開始"
        assert application.status == "approved"  # derived, never stored
        listing = customer_client.get(reverse("applications:application-list")).content.decode()
        assert "利用開始</td>" in listing
        detail = customer_client.get(
            reverse("applications:application-detail", kwargs={"pk": application.pk})
        )
        assert '<dd class="col-sm-9" data-field="status">利用開始</dd>' in detail.content.decode()
        assert business_calendar.is_business_day(application.start_date)


@pytest.mark.parametrize(
    ("start_date", "today", "started"),
    [
        (None, datetime.date(2026, 12, 1), False),  # no start date yet: never started
        (datetime.date(2026, 12, 2), datetime.date(2026, 12, 1), False),
        (datetime.date(2026, 12, 2), datetime.date(2026, 12, 2), True),  # from the start date itself
        (datetime.date(2026, 12, 2), datetime.date(2027, 1, 5), True),
    ],
)
def test_the_start_date_is_reached_on_the_day_itself_and_after(start_date, today, started):
    assert start_date_reached(start_date, today) is started
    assert NaccsUserIdFactory.build(start_date=start_date).has_started(today) is started


def test_an_application_and_its_ids_start_together_at_midnight_japan_time(reviewer):
    """The portal's 利用開始 and the UTB gateway's login use one rule, on the date in Japan: at 23:59 JST the day
    before (already the start date's eve in UTC) neither has started; at 00:00 JST (still the day before in UTC)
    both have."""
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        application = submitted_application()
        application_take(application=application, actor=reviewer)
        [issued] = application_approve(application=application, actor=reviewer)
        application.refresh_from_db()
        issued.password_hash = passwords.hash_naccs_password("READY123")
        issued.save(update_fields=["password_hash"])
        midnight = datetime.datetime.combine(application.start_date, datetime.time(0, 0), tzinfo=JST)

        def log_in():
            return screen_login(user_id=issued.naccs_user_id, password="READY123", client_address="192.0.2.1")

        traveller.move_to((midnight - datetime.timedelta(minutes=1)).astimezone(datetime.UTC))
        assert application.status_label == "審査終了"
        with pytest.raises(UtbLoginError) as refused:
            log_in()
        assert refused.value.result is U0001 and "より前です" in refused.value.reason

        traveller.move_to(midnight.astimezone(datetime.UTC))
        assert (
            midnight.astimezone(datetime.UTC).date() < application.start_date
        )  # UTC is still the day before
        assert application.status_label == "利用開始"
        assert log_in().pk == issued.pk


def test_the_labels_of_a_listing_follow_the_active_language_for_every_member():
    """status_label and kind_label are get_FOO_display() translated once per member and language: switching the
    language back and forth gives each language's own label, for every status and every kind."""
    for choices in (ApplicationStatus, ApplicationKind):
        for language in ("ja", "en", "ja", "en"):
            with translation.override(language):
                for member in choices:
                    assert choice_label(choices, member.value) == str(member.label)
    with translation.override("en"):
        assert choice_label(ApplicationKind, ApplicationKind.RESET_PASSWORDS) != choice_label(
            ApplicationKind, ApplicationKind.ADD_CUSTOMS_BROKER_IDS
        )
        english = Application(kind=ApplicationKind.RESET_PASSWORDS, status=ApplicationStatus.SUBMITTED)
        assert (english.kind_label, english.status_label) == (
            english.get_kind_display(),
            english.get_status_display(),
        )
    with translation.override("ja"):
        assert english.kind_label == english.get_kind_display() == "パスワードの初期化"
