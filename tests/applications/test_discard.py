"""キャンセル: a draft is discarded only through its confirmation (「この下書きを削除しますか？」, a GET that changes
nothing, then a POST), with its IDs, by someone of its office; then the menu, with a message. Screens 4–6 and the
menu lead there with a link."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from applications import services
from applications.exceptions import DomainError
from applications.models import Application, ApplicationItem, ApplicationStatus
from tests.factories import ContractFactory, CustomerFactory, DraftFactory, ItemFactory
from tests.html import Page

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(customer):
    """The logged-in customer's draft with two IDs set."""
    draft = DraftFactory(contract=customer.contract, created_by=customer, items=0)
    ItemFactory(application=draft, desired_identifier="A1A", broker_name="通関 一郎")
    ItemFactory(application=draft, broker_name="通関 二郎")
    return draft


def discard_url(application, back: str | None = None) -> str:
    url = reverse("applications:discard", kwargs={"pk": application.pk})
    return f"{url}?from={back}" if back else url


def exists(application) -> bool:
    return Application.objects.filter(pk=application.pk).exists()


# --- the confirmation ------------------------------------------------------------------------------------------


def test_the_confirmation_asks_before_anything_is_deleted(customer_client, draft):
    before = LogEntry.objects.count()
    page = Page(customer_client.get(discard_url(draft, "add-ids")))

    assert page.screen == "discard"
    assert page.root.find_all("h1")[0].text == "この下書きを削除しますか？"
    assert "元に戻すことはできません" in page.text
    assert [row[3] for row in page.item_rows()] == ["通関 一郎", "通関 二郎"]
    form = page.form_of("下書きを削除する")
    assert form.attrs["method"].lower() == "post"
    assert form.attrs["action"] == discard_url(draft)
    assert page.href_of("削除せずに戻る") == reverse("applications:add-ids", kwargs={"pk": draft.pk})
    assert exists(draft) and draft.items.count() == 2
    assert LogEntry.objects.count() == before


@pytest.mark.parametrize(
    ("back", "screen"),
    [
        ("applicant", "applications:applicant"),
        ("add-ids", "applications:add-ids"),
        ("confirm", "applications:confirm"),
        ("menu", "menu"),
        ("", "applications:applicant"),
        ("https://evil.example/", "applications:applicant"),
    ],
)
def test_back_from_the_confirmation_leads_to_the_screen_it_came_from(customer_client, draft, back, screen):
    page = Page(customer_client.get(discard_url(draft, back)))
    expected = reverse("menu") if screen == "menu" else reverse(screen, kwargs={"pk": draft.pk})
    assert page.href_of("削除せずに戻る") == expected


# --- deleting --------------------------------------------------------------------------------------------------


def test_discarding_deletes_the_draft_and_its_ids_and_goes_back_to_the_menu(customer_client, draft):
    item_ids = list(draft.items.values_list("pk", flat=True))
    audit_entries = LogEntry.objects.count()

    response = customer_client.post(discard_url(draft))

    assert response.status_code == 302
    assert response["Location"] == reverse("menu")
    assert not exists(draft)
    assert not ApplicationItem.objects.filter(pk__in=item_ids).exists()
    # drafts are not audited (their creation and edits are not either): nothing is written about it
    assert LogEntry.objects.count() == audit_entries
    menu = Page(customer_client.get(response["Location"]))
    assert "下書きを削除しました。" in menu.page_errors()
    assert not menu.root.find_all(**{"data-field": "draft"})


def test_after_discarding_the_guidance_button_starts_a_new_empty_draft(customer_client, customer, draft):
    customer_client.post(discard_url(draft))
    customer_client.post(reverse("applications:start"))
    new = Application.objects.get(created_by=customer, status=ApplicationStatus.DRAFT)
    assert new.pk != draft.pk
    assert new.items.count() == 0


def test_a_colleague_of_the_same_office_may_discard_it_as_they_may_edit_it(client, customer, draft):
    # Tenancy is the office (docs/decisions.md): the draft screens are theirs too.
    colleague = CustomerFactory(contract=customer.contract)
    client.force_login(colleague)
    assert client.post(discard_url(draft))["Location"] == reverse("menu")
    assert not exists(draft)


def test_another_offices_draft_is_a_404_and_stays(client, draft):
    client.force_login(CustomerFactory(contract=ContractFactory()))
    assert client.get(discard_url(draft)).status_code == 404
    assert client.post(discard_url(draft)).status_code == 404
    assert exists(draft) and draft.items.count() == 2


def test_a_draft_already_discarded_is_a_404(customer_client, draft):
    customer_client.post(discard_url(draft))
    assert customer_client.post(discard_url(draft)).status_code == 404
    assert customer_client.get(discard_url(draft)).status_code == 404


def test_a_submitted_application_is_not_discarded_its_confirmation_leads_to_complete(
    customer_client, draft, freeze
):
    draft.desired_start_date = freeze
    draft.save()
    services.application_submit(application=draft)
    complete = reverse("applications:complete", kwargs={"pk": draft.pk})

    assert customer_client.get(discard_url(draft))["Location"] == complete
    assert customer_client.post(discard_url(draft))["Location"] == complete
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.SUBMITTED
    assert draft.items.count() == 2


def test_the_service_refuses_a_draft_submitted_meanwhile_and_deletes_nothing(draft, freeze):
    stale = Application.objects.get(pk=draft.pk)  # what the page read, before another tab submitted it
    draft.desired_start_date = freeze
    draft.save()
    services.application_submit(application=draft)

    with pytest.raises(DomainError) as refused:
        services.application_draft_discard(application=stale, actor=draft.created_by)

    assert refused.value.code == "already_submitted"
    assert exists(draft) and draft.items.count() == 2


def test_the_service_refuses_an_account_of_another_office(draft):
    stranger = CustomerFactory(contract=ContractFactory())
    with pytest.raises(DomainError) as refused:
        services.application_draft_discard(application=draft, actor=stranger)
    assert refused.value.code == "not_own"
    assert exists(draft)


def test_a_draft_deleted_meanwhile_is_a_message_not_a_server_error(draft):
    stale = Application.objects.get(pk=draft.pk)
    services.application_draft_discard(application=draft, actor=draft.created_by)
    with pytest.raises(DomainError) as refused:
        services.application_applicant_set(
            application=stale, name="山田 太郎", department="", phone="03-1234-5678", email="a@example.com"
        )
    assert refused.value.code == "draft_deleted"
    assert refused.value.message == "この下書きは削除されています。"


def test_discarding_is_one_transaction(draft, monkeypatch):
    """The draft and its IDs go together or not at all: a failure during the deletion leaves both."""

    def failing_delete(self, *args, **kwargs):
        ApplicationItem.objects.filter(application=self).delete()  # the IDs are gone first …
        raise RuntimeError("the database went away")  # … and then the draft's own row fails

    monkeypatch.setattr(Application, "delete", failing_delete)
    with pytest.raises(RuntimeError):
        services.application_draft_discard(application=draft, actor=draft.created_by)

    assert exists(draft)
    assert draft.items.count() == 2


# --- the way there: キャンセル on screens 4–6, and the menu --------------------------------------------------


@pytest.mark.parametrize("screen", ["applicant", "add-ids", "confirm"])
def test_each_draft_screen_has_a_cancel_link_to_the_confirmation(customer_client, draft, screen):
    page = Page(customer_client.get(reverse(f"applications:{screen}", kwargs={"pk": draft.pk})))
    assert page.screen == screen
    assert page.href_of("キャンセル") == discard_url(draft, screen)
    assert "キャンセル" not in page.buttons()  # nothing is posted: a link, not a form


def test_the_menu_offers_to_discard_the_draft(customer_client, draft):
    page = Page(customer_client.get(reverse("menu")))
    assert page.href_of("この下書きを削除する") == discard_url(draft, "menu")
