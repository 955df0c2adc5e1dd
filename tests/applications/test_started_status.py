"""利用開始 is derived from the confirmed start date (SPEC §4), shown wherever the status is."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from applications import business_calendar
from applications.clock import JST
from reviews.services import application_approve, application_take
from tests.factories import FROZEN_AT, submitted_application

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
