"""Tenancy (SPEC §3): a customer sees only the contract (利用者コード) their account belongs to.
Another office's draft, application or detail is a 404, never a 403 that would confirm it exists,
and nothing of it changes."""

import pytest
from django.urls import reverse

from applications import services
from applications.models import Application, ApplicationStatus
from tests.factories import ContractFactory, CustomerFactory, DraftFactory, ItemFactory, method
from tests.html import Page

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_a(db):
    return ContractFactory()


@pytest.fixture
def draft_a(office_a):
    """Office A's draft with one ID set."""
    draft = DraftFactory(contract=office_a, items=0)
    ItemFactory(application=draft, desired_identifier="A1A", broker_name="通関 一郎")
    return draft


@pytest.fixture
def customer_b(db):
    return CustomerFactory(contract=ContractFactory())


@pytest.fixture
def client_b(client, customer_b):
    client.force_login(customer_b)
    return client


def snapshot(application: Application) -> tuple:
    application.refresh_from_db()
    items = tuple(application.items.order_by("id").values_list("id", "desired_identifier", "broker_name"))
    return (
        application.status,
        application.applicant_name,
        application.applicant_email,
        application.desired_start_date,
        items,
    )


def submit(contract, start) -> Application:
    return services.application_submit(application=DraftFactory(contract=contract, desired_start_date=start))


@pytest.mark.parametrize("name", ["applicant", "add-ids", "confirm"])
def test_another_offices_draft_screen_is_404_on_get(client_b, draft_a, name):
    response = client_b.get(reverse(f"applications:{name}", kwargs={"pk": draft_a.pk}))
    assert response.status_code == 404


POSTS = {
    "applicant": {
        "name": "他社 太郎",
        "department": "",
        "phone": "03-1111-2222",
        "email": "intruder@example.com",
    },
    "add-ids": {"add": "1", "processing_method": "", "desired_identifier": "B2B", "broker_name": "他社 次郎"},
    "remove": {"remove": ""},
    "proceed": {"proceed": "1"},
    "confirm": {},
}


@pytest.mark.parametrize("action", sorted(POSTS))
def test_another_offices_draft_is_404_on_post_and_stays_unchanged(client_b, draft_a, freeze, action):
    name = {"remove": "add-ids", "proceed": "add-ids"}.get(action, action)
    data = dict(POSTS[action])
    if "desired_identifier" in data or action == "proceed":
        data.update(desired_start_date=freeze.isoformat())
    if "processing_method" in data:
        data.update(processing_method=method("interactive").pk)
    if action == "remove":
        data.update(remove=str(draft_a.items.get().pk))
    if action == "confirm":
        draft_a.desired_start_date = freeze
        draft_a.save()
    before = snapshot(draft_a)

    response = client_b.post(reverse(f"applications:{name}", kwargs={"pk": draft_a.pk}), data)

    assert response.status_code == 404
    assert snapshot(draft_a) == before
    assert draft_a.status == ApplicationStatus.DRAFT


@pytest.mark.parametrize("name", ["complete", "application-detail"])
def test_another_offices_submitted_application_is_404(client_b, office_a, freeze, name):
    application = submit(office_a, freeze)
    response = client_b.get(reverse(f"applications:{name}", kwargs={"pk": application.pk}))
    assert response.status_code == 404


def test_another_offices_submitted_application_is_404_on_the_draft_screens_too(
    client_b,
    office_a,
    freeze,
):
    """Not a redirect to its completion screen, which would confirm that it exists."""
    application = submit(office_a, freeze)
    for name in ("applicant", "add-ids", "confirm"):
        assert client_b.get(reverse(f"applications:{name}", kwargs={"pk": application.pk})).status_code == 404


def test_application_list_shows_only_the_offices_own_applications(client_b, customer_b, office_a, freeze):
    own = submit(customer_b.contract, freeze)
    other = submit(office_a, freeze)
    page = Page(client_b.get(reverse("applications:application-list")))
    assert page.screen == "application-list"
    numbers = [
        row.attrs["data-reception-number"]
        for row in page.root.find_all("tr")
        if "data-reception-number" in row.attrs
    ]
    assert numbers == [own.reception_number]
    assert other.reception_number not in page.html


def test_removing_an_item_of_another_offices_draft_from_ones_own_draft_does_nothing_to_it(
    client_b,
    customer_b,
    draft_a,
    freeze,
):
    own = DraftFactory(contract=customer_b.contract, created_by=customer_b, items=1)
    item_a = draft_a.items.get()
    before = snapshot(draft_a)

    response = client_b.post(
        reverse("applications:add-ids", kwargs={"pk": own.pk}),
        {"remove": str(item_a.pk), "desired_start_date": freeze.isoformat()},
    )

    assert Page(response).screen == "add-ids"
    assert snapshot(draft_a) == before
    assert own.items.count() == 1


def test_the_menu_shows_only_the_own_offices_contract(client_b, customer_b, office_a):
    page = Page(client_b.get(reverse("menu")))
    assert customer_b.contract.user_code in page.text
    assert office_a.user_code not in page.text
    assert office_a.company_name not in page.text


def test_starting_an_application_never_resumes_another_offices_draft(client_b, customer_b, draft_a):
    response = client_b.post(reverse("applications:start"))
    assert response.status_code == 302
    started = Application.objects.get(created_by=customer_b, status=ApplicationStatus.DRAFT)
    assert started.pk != draft_a.pk
    assert started.contract == customer_b.contract
