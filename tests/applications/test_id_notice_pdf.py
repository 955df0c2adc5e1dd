"""「PDFで保存」 of screen 10 (ID通知内容, SPEC §3) under the rules of SPEC §10: the same notice as a PDF drawn by
WeasyPrint — one A4 page for the most IDs an application holds, with the care warning and the issue date, an initial
password only until it is changed, audited like the screen — and, on a server without WeasyPrint's libraries, a page
that says so instead of an error.

Who may download it (the office's customers; another office 404, staff 403) is in the authorization matrix
(tests/security/test_authorization_matrix.py); its query count in tests/test_query_budgets.py. The tests that draw a
real PDF need WeasyPrint's libraries and a Japanese font (`make pdf`): skipped without them locally, failed in CI."""

import datetime
import importlib.abc
import io
import itertools
import sys

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.urls import reverse
from pypdf import PdfReader

from applications import clock, pdf
from applications.models import Application, NaccsUserId
from tests.applications.test_result_screens import approved, not_approved
from tests.factories import FROZEN_AT, ContractFactory, CustomerFactory
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

A4 = (595.28, 841.89)  # points
CARE_WARNING = "初期パスワードは大切に保管し、他の人に知られないようにしてください。"


@pytest.fixture
def known_passwords(monkeypatch):
    """Approval generates PW000001, PW000002, … so that a test knows what the PDF must hold."""
    counter = itertools.count(1)
    monkeypatch.setattr("applications.passwords.generate_initial_password", lambda: f"PW{next(counter):06d}")


def pdf_url(application: Application) -> str:
    return reverse("applications:id-notice-pdf", kwargs={"pk": application.pk})


def read_pdf(response) -> PdfReader:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(response.content))


def text_of(reader: PdfReader) -> str:
    """The text of every page, without the line breaks and spaces the layout puts in."""
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def accesses() -> list[LogEntry]:
    return list(LogEntry.objects.filter(action=LogEntry.Action.ACCESS).order_by("pk"))


class FailingImport(importlib.abc.MetaPathFinder):
    """`import weasyprint` fails as it does on a server without it: the package missing (ImportError), or cffi unable
    to load Pango (OSError, which WeasyPrint lets through from its import)."""

    def __init__(self, error: Exception):
        self.error = error

    def find_spec(self, fullname, path, target=None):
        if fullname.partition(".")[0] == "weasyprint":
            raise self.error
        return None


@pytest.fixture(
    params=[
        ImportError("No module named 'weasyprint'"),
        OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file"),
    ],
    ids=["package-missing", "pango-missing"],
)
def weasyprint_missing(request, monkeypatch):
    for name in [name for name in sys.modules if name.partition(".")[0] == "weasyprint"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [FailingImport(request.param), *sys.meta_path])


# --- the PDF ---------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("require_pdf")
def test_the_pdf_of_the_most_ids_is_one_a4_page_with_every_id_its_password_and_the_care_warning(
    customer_client, customer, reviewer, known_passwords
):
    ids = settings.NSS_MAX_IDS_PER_APPLICATION
    assert ids == 20
    application = approved(customer, reviewer, ids=ids)
    issued = list(NaccsUserId.objects.filter(issued_by=application).order_by("identifier"))
    assert len(issued) == ids

    reader = read_pdf(customer_client.get(pdf_url(application)))

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4, abs=0.5)
    text = text_of(reader)
    for naccs_id in issued:
        assert naccs_id.naccs_user_id in text
    for number in range(1, ids + 1):
        assert f"PW{number:06d}" in text
    assert "ID通知内容" in text
    assert CARE_WARNING in text
    assert application.reception_number in text
    assert customer.contract.company_name.replace(" ", "") in text
    # 発行日時: when the PDF was made, in Japan time; the approval date beside it
    assert "発行日時2026年11月16日10:00" in text, text[:200]
    assert "承認日2026年11月16日" in text
    assert "「変更済み」" in text  # the note on changed passwords, not a 変更済み cell: none is changed


@pytest.mark.usefixtures("require_pdf")
def test_a_changed_initial_password_is_not_in_the_pdf_which_says_changed(
    customer_client, customer, reviewer, known_passwords
):
    application = approved(customer, reviewer, ids=2)
    first, second = NaccsUserId.objects.filter(issued_by=application).order_by("identifier")
    NaccsUserId.objects.filter(pk=first.pk).update(password_changed_at=clock.now())

    text = text_of(read_pdf(customer_client.get(pdf_url(application))))

    row = text[text.index(first.naccs_user_id) : text.index(second.naccs_user_id)]
    assert "変更済み" in row
    assert "PW000001" not in text
    assert "PW000002" in text


@pytest.mark.usefixtures("require_pdf")
def test_past_the_retention_the_pdf_holds_no_initial_password(
    customer_client, customer, reviewer, known_passwords, frozen_clock
):
    application = approved(customer, reviewer)
    frozen_clock.shift(datetime.timedelta(days=settings.NSS_INITIAL_PASSWORD_RETENTION_DAYS))
    customer_client.force_login(customer)  # the session does not live that long

    text = text_of(read_pdf(customer_client.get(pdf_url(application))))

    assert "PW000001" not in text
    assert "保存期間を過ぎたため表示できません。" in text


@pytest.mark.usefixtures("require_pdf")
def test_the_download_is_an_attachment_named_after_the_reception_number_and_never_stored_by_a_cache(
    customer_client, customer, reviewer
):
    application = approved(customer, reviewer)

    response = customer_client.get(pdf_url(application))

    read_pdf(response)
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="id-notice-{application.reception_number}.pdf"'
    )
    assert "no-store" in response["Cache-Control"]


@pytest.mark.usefixtures("require_pdf")
def test_every_download_is_audited_with_its_actor_apart_from_the_views_of_the_screen(
    customer_client, customer, reviewer
):
    application = approved(customer, reviewer)

    customer_client.get(reverse("applications:id-notice", kwargs={"pk": application.pk}))
    read_pdf(customer_client.get(pdf_url(application)))
    read_pdf(customer_client.get(pdf_url(application)))

    entries = accesses()
    assert [entry.additional_data["action"] for entry in entries] == [
        "id_notice_view",
        "id_notice_pdf_download",
        "id_notice_pdf_download",
    ]
    for entry in entries:
        assert entry.actor == customer
        assert entry.object_pk == str(application.pk)
        assert entry.content_type.model_class() is Application
    assert entries[-1].timestamp == FROZEN_AT


@pytest.mark.parametrize("state", ["submitted", "under_review", "rejected"])
def test_the_pdf_of_an_application_not_approved_is_404_and_audits_nothing(
    customer_client, customer, reviewer, state
):
    application = not_approved(customer, reviewer, state)

    assert customer_client.get(pdf_url(application)).status_code == 404
    assert not accesses()


@pytest.mark.usefixtures("require_pdf")
def test_the_pdf_is_in_the_language_of_the_reader(customer_client, customer, reviewer):
    application = approved(customer, reviewer)
    customer_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    text = text_of(read_pdf(customer_client.get(pdf_url(application))))

    assert "16November2026" in text  # applications/dates.py in English, "16 November 2026"


# --- a server that cannot make PDFs ------------------------------------------------------------------------------


def test_without_weasyprint_the_link_answers_with_a_page_that_says_so_and_audits_nothing(
    weasyprint_missing, customer_client, customer, reviewer
):
    application = approved(customer, reviewer)

    response = customer_client.get(pdf_url(application))

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert "Content-Disposition" not in response
    page = Page(response)
    assert page.screen == "id-notice-pdf-unavailable"
    assert "このサーバーでは、ID通知内容のPDFを作成できません。" in page.text
    assert "印刷" in page.text
    back = page.root.find_all("a", href=reverse("applications:id-notice", kwargs={"pk": application.pk}))
    assert [link.text for link in back] == ["ID通知内容に戻る"]
    assert not accesses()
    # The screen itself still works, link included.
    notice = Page(customer_client.get(reverse("applications:id-notice", kwargs={"pk": application.pk})))
    assert [link.text for link in notice.root.find_all("a", href=pdf_url(application))] == ["PDFで保存"]


def test_without_weasyprint_another_offices_pdf_is_still_404(weasyprint_missing, client, customer, reviewer):
    application = approved(customer, reviewer)
    client.force_login(CustomerFactory(contract=ContractFactory()))

    assert client.get(pdf_url(application)).status_code == 404


@pytest.mark.usefixtures("require_pdf")
def test_a_pdf_drawn_in_no_japanese_font_is_refused(monkeypatch, caplog):
    monkeypatch.setattr(pdf, "FONT_RULE", 'html { font-family: "DejaVu Sans"; }')
    monkeypatch.setattr(pdf, "JAPANESE_FONTS", ("No Such Face",))

    with pytest.raises(pdf.PdfUnavailable):
        pdf.html_to_pdf('<html lang="ja"><p>通関士</p></html>', stylesheet="css/id_notice_pdf.css")
    assert "no Japanese font" in caplog.text


@pytest.mark.usefixtures("require_pdf")
def test_a_pdf_fetches_nothing_the_document_names(tmp_path, caplog):
    """Neither a file of the server nor another host: WeasyPrint is refused every URL and draws the page without."""
    image = tmp_path / "pixel.svg"
    image.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect width="9" height="9"/></svg>'
    )
    sheet = tmp_path / "hide.css"
    sheet.write_text("p { display: none; }")
    urls = [image.as_uri(), "http://127.0.0.1:9/x.png", sheet.as_uri()]
    html = (
        f'<html lang="ja"><link rel="stylesheet" href="{urls[2]}"><p>通関士</p>'
        f'<img src="{urls[0]}"><img src="{urls[1]}"></html>'
    )

    reader = PdfReader(io.BytesIO(pdf.html_to_pdf(html, stylesheet="css/id_notice_pdf.css")))

    assert not reader.pages[0]["/Resources"].get("/XObject"), "an image was fetched into the PDF"
    assert "通関士" in text_of(reader), "the stylesheet that hides the text was fetched"
    refused = [record.getMessage() for record in caplog.records if "fetches nothing" in record.getMessage()]
    assert len(refused) == 3 and all(any(url in line for line in refused) for url in urls), refused


# --- the screen ----------------------------------------------------------------------------------------------------


def test_the_screen_offers_the_pdf_with_a_link_and_shows_when_it_was_issued_and_approved(
    customer_client, customer, reviewer
):
    application = approved(customer, reviewer)

    page = Page(customer_client.get(reverse("applications:id-notice", kwargs={"pk": application.pk})))

    (link,) = page.root.find_all("a", href=pdf_url(application))
    assert link.text == "PDFで保存"
    assert "download" not in link.attrs  # the unavailable page must open as a page, not be saved as a file
    produced = page.root.find_all(**{"data-field": "produced_at"})[0]
    assert produced.text == "発行日時 2026年11月16日 10:00"
    assert page.root.find_all(**{"data-field": "approved_on"})[0].text == "2026年11月16日"
    warning = page.root.find_all(**{"data-field": "care_warning"})[0]
    assert CARE_WARNING in warning.text
    assert "nss-no-print" not in warning.classes  # printed with the notice


# --- what installs WeasyPrint's libraries ----------------------------------------------------------------------


def test_the_image_installs_the_packages_make_pdf_installs():
    root = settings.BASE_DIR
    (line,) = [
        line for line in (root / "Makefile").read_text().splitlines() if line.startswith("PDF_PACKAGES :=")
    ]
    packages = line.split(":=", 1)[1].split()
    assert {"libpango-1.0-0", "libpangoft2-1.0-0", "fonts-noto-cjk"} <= set(packages)
    dockerfile = (root / "Dockerfile").read_text()
    assert all(f" {package}" in dockerfile for package in packages), packages
