"""Initial passwords over their life (SPEC §10): drawn without look-alikes while meeting the NACCS rule, shown on
the ID notice only until the ID's password is changed, their ciphertext destroyed then or after the retention
period (a beat task)."""

import datetime
from collections import Counter

import pytest
from django.conf import settings
from django.urls import reverse

from applications import clock, crypto, passwords, rules, services
from applications.models import NaccsUserId
from applications.tasks import initial_passwords_destroy_task
from nss_portal.celery import app as celery_app
from reviews import services as review_services
from tests.factories import DraftFactory
from tests.html import Page
from utb_gateway import services as utb_services

pytestmark = [pytest.mark.django_db]


def test_initial_passwords_have_no_look_alikes_and_meet_the_naccs_rule():
    drawn = [passwords.generate_initial_password() for _ in range(3000)]
    for password in drawn:
        assert len(password) == 8
        assert not set(password) & {"O", "0", "I", "1"}, password
        assert passwords.naccs_password_problem(password) is None, password
    # Every character of the alphabet is used (24 letters + 8 digits), nothing else is.
    assert set("".join(drawn)) == set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    assert len(set(drawn)) == len(drawn)
    # Letters and digits both appear in every position: nothing is fixed by the "both present" rule.
    for position in range(8):
        kinds = Counter(password[position].isdigit() for password in drawn)
        assert kinds[True] > 200 and kinds[False] > 200


def approved_ids(customer, reviewer, *, ids: int = 1) -> list[NaccsUserId]:
    draft = DraftFactory(
        contract=customer.contract,
        created_by=customer,
        items=ids,
        desired_start_date=rules.earliest_start_date(clock.today()),
    )
    application = services.application_submit(application=draft)
    review_services.application_take(application=application, actor=reviewer)
    review_services.application_approve(application=application, actor=reviewer, start_date=None)
    return list(NaccsUserId.objects.filter(issued_by=application).order_by("identifier"))


def notice_page(client, naccs_id: NaccsUserId) -> Page:
    # Logged in afresh each time: the tests travel in time further than a session lives.
    client.force_login(naccs_id.issued_by.created_by)
    return Page(client.get(reverse("applications:id-notice", kwargs={"pk": naccs_id.issued_by_id})))


def password_cell(page: Page, naccs_id: NaccsUserId) -> str:
    rows = page.root.find_all("tr", **{"data-issued-id": naccs_id.naccs_user_id})
    assert len(rows) == 1, (page.response.status_code, page.response.get("Location"))
    (row,) = rows
    return row.find_all("td")[2].text


def test_a_reused_initial_password_is_never_shown_again(frozen_clock, customer_client, customer, reviewer):
    """The finding: change the initial password, cycle back to it past the "last three" rule, and the notice
    showed it 「変更済み」 next to a value that logs in. Now the value is gone at the first change."""
    (naccs_id,) = approved_ids(customer, reviewer)
    initial = crypto.decrypt(naccs_id.initial_password_encrypted)
    NaccsUserId.objects.filter(pk=naccs_id.pk).update(start_date=datetime.date(2026, 11, 16))
    assert password_cell(notice_page(customer_client, naccs_id), naccs_id) == initial

    current = initial
    for new in ("AB2345", "CD2345", "EF2345", initial):
        utb_services.naccs_password_change(naccs_id=naccs_id, current_password=current, new_password=new)
        current = new
        naccs_id.refresh_from_db()
        assert naccs_id.initial_password_encrypted == ""
        page = notice_page(customer_client, naccs_id)
        assert password_cell(page, naccs_id) == "変更済み"
        assert initial not in page.html

    # The initial password logs in again (the customer chose it), yet the notice does not show it.
    assert passwords.check_naccs_password(initial, naccs_id.password_hash)


def test_past_the_retention_the_notice_shows_no_value_even_before_the_sweep(
    frozen_clock, customer_client, customer, reviewer
):
    (naccs_id,) = approved_ids(customer, reviewer)
    initial = crypto.decrypt(naccs_id.initial_password_encrypted)
    days = settings.NSS_INITIAL_PASSWORD_RETENTION_DAYS

    frozen_clock.shift(datetime.timedelta(days=days) - datetime.timedelta(minutes=1))
    assert password_cell(notice_page(customer_client, naccs_id), naccs_id) == initial

    frozen_clock.shift(datetime.timedelta(minutes=1))
    page = notice_page(customer_client, naccs_id)
    assert initial not in page.html
    assert (
        password_cell(page, naccs_id)
        == "保存期間を過ぎたため表示できません。NACCSセンターにお問い合わせください。"
    )


def test_the_sweep_destroys_changed_and_expired_ciphertexts_and_keeps_the_others(
    frozen_clock, customer, reviewer, settings
):
    settings.NSS_INITIAL_PASSWORD_RETENTION_DAYS = 30
    old, changed = approved_ids(customer, reviewer, ids=2)
    frozen_clock.shift(datetime.timedelta(days=20))
    (young,) = approved_ids(customer, reviewer)
    # A change recorded without the UTB screen (an import, an operator): the sweep still destroys the value.
    NaccsUserId.objects.filter(pk=changed.pk).update(password_changed_at=young.created_at)
    frozen_clock.shift(datetime.timedelta(days=10))

    assert initial_passwords_destroy_task.apply().result == 2

    kept = {
        n.pk: n.initial_password_encrypted
        for n in NaccsUserId.objects.filter(pk__in=[old.pk, changed.pk, young.pk])
    }
    assert kept[old.pk] == "" and kept[changed.pk] == ""
    assert crypto.decrypt(kept[young.pk])
    assert services.initial_passwords_destroy() == 0  # nothing left to do: idempotent


def test_the_sweep_runs_on_the_beat_schedule():
    entries = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "applications.tasks.initial_passwords_destroy_task" in entries
    assert entries["applications.tasks.initial_passwords_destroy_task"]["schedule"] <= 24 * 3600
    assert "applications.tasks.initial_passwords_destroy_task" in celery_app.tasks
