"""受付 and 内容確認中 are "open" in one place (applications.models.OPEN_STATUSES): the overdue rule, the staff
queue's default view and the partial indexes of open applications all use that one tuple."""

import datetime

import pytest

from applications.models import OPEN_STATUSES, Application, ApplicationStatus
from reviews.selectors import application_queue
from tests.factories import submitted_application

TODAY = datetime.date(2026, 11, 18)
YESTERDAY = TODAY - datetime.timedelta(days=1)
FILED = [status for status in ApplicationStatus if status != ApplicationStatus.DRAFT]


def test_open_means_received_or_under_review():
    assert set(OPEN_STATUSES) == {ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW}


@pytest.mark.parametrize("status", list(ApplicationStatus))
def test_only_an_open_application_past_its_answer_due_date_is_overdue(status):
    application = Application(status=status, answer_due_on=YESTERDAY)
    assert application.is_overdue_on(TODAY) is (status in OPEN_STATUSES)
    assert not Application(status=status, answer_due_on=TODAY).is_overdue_on(TODAY)


@pytest.mark.parametrize(
    "name", ["application_open_queue", "application_open_counts", "application_open_by_desired"]
)
def test_the_open_indexes_cover_exactly_the_open_statuses(name):
    [index] = [index for index in Application._meta.indexes if index.name == name]
    assert index.condition.children == [("status__in", [status.value for status in OPEN_STATUSES])]


@pytest.mark.django_db
def test_the_default_queue_and_the_overdue_filter_list_the_open_statuses_only(freeze):
    for status in FILED:
        application = submitted_application()
        Application.objects.filter(pk=application.pk).update(status=status, answer_due_on=YESTERDAY)

    def shown(**filters):
        return {row.status for row in application_queue(today=TODAY, **filters).rows}

    assert shown() == set(OPEN_STATUSES)
    assert shown(status="", overdue=True) == set(OPEN_STATUSES)
    assert shown(status="") == set(FILED)
