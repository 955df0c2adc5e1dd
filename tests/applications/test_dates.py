"""One date format (applications/dates.py) for templates and Python: 2026年12月2日 in Japanese, 2 December 2026 in
English; e-mails stay in the portal's language whatever the screen that caused them."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from applications import dates
from applications.clock import JST
from applications.models import EnrolmentToken
from notifications.models import Email
from reviews import services as review_services
from tests.factories import submitted_application

DAY = datetime.date(2026, 12, 2)
# 2026-12-01 15:05 UTC is already 2 December, 00:05, in Japan.
INSTANT = datetime.datetime(2026, 12, 1, 15, 5, tzinfo=datetime.UTC)


def render(source: str, **context) -> str:
    return Template("{% load nss_dates %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "day", "moment"),
    [("ja", "2026年12月2日", "2026年12月2日 00:05"), ("en", "2 December 2026", "2 December 2026 00:05")],
)
def test_a_date_and_an_instant_read_the_same_from_python_and_from_a_template(language, day, moment):
    with translation.override(language):
        assert dates.format_date(DAY) == day
        assert dates.format_datetime(INSTANT) == moment
        assert dates.format_date(INSTANT) == day  # an instant's day is its day in Japan
        assert render("{{ d|nss_date }}|{{ t|nss_datetime }}", d=DAY, t=INSTANT) == f"{day}|{moment}"


def test_an_explicit_language_wins_over_the_active_one():
    with translation.override("en"):
        assert dates.format_date(DAY, language="ja") == "2026年12月2日"
        assert dates.format_datetime(INSTANT, language=settings.LANGUAGE_CODE) == "2026年12月2日 00:05"
        assert translation.get_language() == "en"  # and the page's language is left as it was
    assert dates.format_date(DAY, language="en") == "2 December 2026"


def test_single_digit_months_and_days_are_not_padded():
    assert dates.format_date(datetime.date(2027, 1, 5), language="ja") == "2027年1月5日"
    assert dates.format_date(datetime.date(2027, 1, 5), language="en") == "5 January 2027"
    morning = datetime.datetime(2027, 1, 5, 9, 7, tzinfo=JST)
    assert dates.format_datetime(morning, language="ja") == "2027年1月5日 09:07"


def test_a_day_of_every_year_is_written_without_the_year():
    assert dates.format_month_day(12, 29, language="ja") == "12月29日"
    assert dates.format_month_day(1, 3, language="en") == "3 January"
    assert dates.format_month_day(2, 29, language="ja") == "2月29日"


def test_no_value_renders_empty_so_a_default_still_applies():
    assert dates.format_date(None) == "" and dates.format_datetime(None) == ""
    assert render('{{ d|nss_date|default:"—" }}{{ t|nss_datetime|default:"—" }}', d=None, t=None) == "——"


def test_no_template_writes_the_japanese_date_format_itself():
    templates = Path(settings.BASE_DIR) / "templates"
    offenders = [
        str(path.relative_to(templates))
        for path in templates.rglob("*")
        if path.suffix in {".html", ".txt"} and "年n月" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


@pytest.mark.django_db
def test_an_english_page_shows_english_dates(customer_client, customer, freeze):
    application = submitted_application(contract=customer.contract, created_by=customer)
    url = reverse("applications:application-detail", kwargs={"pk": application.pk})
    japanese = customer_client.get(url).content.decode()
    assert dates.format_date(application.desired_start_date, language="ja") in japanese

    customer_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = customer_client.get(url).content.decode()
    assert dates.format_date(application.desired_start_date, language="en") in english
    assert dates.format_datetime(application.submitted_at, language="en") in english
    assert "年" not in english.split("<main", 1)[-1]


@pytest.mark.django_db
def test_e_mails_keep_japanese_dates_when_the_screen_is_in_english(reviewer, approver, freeze):
    with translation.override("en"):
        application = submitted_application()
        review_services.application_take(application=application, actor=reviewer)
        review_services.application_approve(application=application, actor=reviewer)
        review_services.staff_account_create(
            actor=approver, username="new-staff", full_name="新 人", email="new@nacc.example", role="reviewer"
        )
    application.refresh_from_db()
    received = Email.objects.get(kind="application_received")
    approved = Email.objects.get(kind="application_approved")
    enrolment = Email.objects.get(kind="staff_enrolment")
    token = EnrolmentToken.objects.get(user__username="new-staff")
    desired = dates.format_date(application.desired_start_date, language="ja")
    assert f"利用開始希望日：{desired}" in received.body_text
    assert f"利用開始日：{dates.format_date(application.start_date, language='ja')}" in approved.body_text
    assert dates.format_datetime(token.expires_at, language="ja") in enrolment.body_text
    for email in (received, approved, enrolment):
        assert "December" not in email.body_text and "November" not in email.body_text


@pytest.mark.parametrize("language", ["ja", "en", "fr"])
def test_the_written_out_formats_are_the_reference_formats_for_every_day_of_a_leap_year(language):
    """dates.py writes the formats out for speed; Django's dateformat with DATE_FORMATS / MONTH_DAY_FORMATS is the
    reference, for every day of 2028 (a language without a format of its own reads as Japanese)."""
    from django.utils import dateformat

    code = language if language in dates.DATE_FORMATS else "ja"
    day = datetime.date(2028, 1, 1)
    with translation.override(language):
        while day.year == 2028:
            assert dates.format_date(day) == dateformat.format(day, dates.DATE_FORMATS[code])
            assert dates.format_month_day(day.month, day.day) == dateformat.format(
                day, dates.MONTH_DAY_FORMATS[code]
            )
            moment = datetime.datetime.combine(day, datetime.time(9, 7), tzinfo=JST)
            assert dates.format_datetime(moment) == dateformat.format(
                moment, f"{dates.DATE_FORMATS[code]} H:i"
            )
            day += datetime.timedelta(days=1)


def test_the_short_forms_of_the_staff_tables_and_the_csv():
    assert dates.format_ymd(datetime.date(2026, 1, 5)) == "2026/01/05"
    assert dates.format_ymd(INSTANT) == "2026/12/02"  # its day in Japan
    assert dates.format_hm(INSTANT) == "00:05"
    assert dates.format_ymd(None) == dates.format_hm(None) == ""
    assert render("{{ t|nss_ymd }} {{ t|nss_hm }}", t=INSTANT) == "2026/12/02 00:05"
