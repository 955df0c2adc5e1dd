"""The ID notice on paper (SPEC §3 screen 10) in headless Chromium: with the most IDs an application holds
(NSS_MAX_IDS_PER_APPLICATION, 20) the printed screen is one A4 page — Chromium's own PDF of it has one page — no
heading, date or table header is broken over two lines, one line per ID, and the care warning and the issue date are
on it; 「PDFで保存」 downloads the same notice as a one-page A4 PDF.

Each "one line" is measured: the height of the element's text against its line height, at the width of an A4 page
inside the print margins. Screenshots and both PDFs are kept in test-results/browser/."""

import io
import unicodedata

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from applications import clock, rules, services
from applications.models import Application, ApplicationStatus, NaccsUserId
from reviews.services import application_approve, application_take
from tests.browser.conftest import RESULTS_DIR
from tests.browser.test_filing_journey import assert_screen, link, log_in
from tests.factories import (
    PASSWORD,
    ContractFactory,
    CustomerFactory,
    DraftFactory,
    ItemFactory,
    method,
    staff_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The width of an A4 sheet inside the print margins of static/css/nss.css (@page margin 12mm 14mm), in CSS pixels.
A4_WIDTH_MM, SIDE_MARGINS_MM = 210, 2 * 14
PRINT_WIDTH = round((A4_WIDTH_MM - SIDE_MARGINS_MM) / 25.4 * 96)
A4_POINTS = (595.28, 841.89)

# Broker names as offices type them, the longest usual ones included, and one with an ideographic variation
# sequence (葛 + VS17), which names use and the validators keep.
BROKER_NAMES = [
    "山田 太郎",
    "佐々木 美和子",
    "長谷川 健一郎",
    "葛\U000e0100城 花子",
    "鈴木 一",
    "高橋 由美",
    "伊藤 誠",
    "渡辺 直樹",
    "中村 さくら",
    "小林 健太",
    "加藤 裕子",
    "吉田 大輔",
    "山口 真理",
    "松本 翔",
    "井上 恵",
    "木村 拓也",
    "林 美咲",
    "清水 浩二",
    "山崎 里奈",
    "森 和也",
]

# Must each stay on one line on paper.
ONE_LINE = [
    "main h1",
    "main h2",
    "#issued-ids th",
    '[data-field="produced_at"]',
    '[data-field="approved_on"]',
    '[data-field="start_date"]',
    "#issued-ids td:nth-child(1)",
    "#issued-ids td:nth-child(2)",  # the 利用者ID with its 利用者コード + 識別番号
    "#issued-ids td:nth-child(3)",
    "#issued-ids td:nth-child(4)",
    "#issued-ids td:nth-child(6)",  # 利用開始日
]

# The height of each element's text (its range, not its padding) and its line height; a broken line is about twice.
MEASURE_JS = """
(selectors) => selectors.flatMap(selector => [...document.querySelectorAll(selector)]
  .filter(el => el.getClientRects().length > 0)
  .map(el => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const style = getComputedStyle(el);
    const lineHeight = parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize);
    return {selector, text: el.textContent.trim().replace(/\\s+/g, ' '), height: range.getBoundingClientRect().height,
            lineHeight};
  }))
"""


@pytest.fixture
def customer():
    return CustomerFactory(contract=ContractFactory(methods=["interactive", "netnaccs"]))


@pytest.fixture
def notice(customer) -> Application:
    """An approved application with the most IDs allowed, both processing methods, through the real services."""
    assert len(BROKER_NAMES) == settings.NSS_MAX_IDS_PER_APPLICATION == 20
    draft = DraftFactory(contract=customer.contract, created_by=customer, items=0)
    methods = [method("interactive"), method("netnaccs")]
    for index, name in enumerate(BROKER_NAMES):
        ItemFactory(application=draft, processing_method=methods[index % 2], broker_name=name)
    draft.desired_start_date = rules.earliest_start_date(clock.today())
    draft.save(update_fields=["desired_start_date"])
    application = services.application_submit(application=draft)
    application_take(application=application, actor=staff_in("reviewer"))
    application_approve(
        application=application, actor=staff_in("approver"), start_date=draft.desired_start_date
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert NaccsUserId.objects.filter(issued_by=application).count() == 20
    return application


def open_notice(page: Page, customer, notice: Application) -> None:
    log_in(page, customer.username, PASSWORD)
    page.goto(f"/applications/{notice.pk}/")
    link(page, "ID通知内容").click()
    assert_screen(page, "id-notice")
    expect(page.locator("#issued-ids tbody tr[data-issued-id]")).to_have_count(20)


def test_the_printed_notice_of_twenty_ids_is_one_a4_page_with_nothing_broken_over_two_lines(
    page: Page, customer, notice, screenshot
):
    open_notice(page, customer, notice)
    screenshot(page, "id-notice-20-screen", prefix="print-")

    page.set_viewport_size({"width": PRINT_WIDTH, "height": 1000})
    page.emulate_media(media="print")
    # on paper: the notice, its care warning and issue date; not the header, the hints or the buttons
    expect(page.locator(".nss-header")).to_be_hidden()
    expect(page.locator('[data-field="print_hint"]')).to_be_hidden()
    expect(page.get_by_role("link", name="PDFで保存")).to_be_hidden()
    expect(page.get_by_role("button", name="戻る")).to_be_hidden()
    expect(page.locator('[data-field="care_warning"]')).to_be_visible()
    expect(page.locator('[data-field="care_warning"]')).to_contain_text("初期パスワードは大切に保管し")
    expect(page.locator('[data-field="produced_at"]')).to_contain_text("発行日時")
    expect(page.locator('[data-field="approved_on"]')).to_be_visible()
    screenshot(page, "id-notice-20-print", prefix="print-")

    # The measure sees a broken line: the care warning, a paragraph, takes two at this width.
    (warning,) = page.evaluate(MEASURE_JS, ['[data-field="care_warning"]'])
    assert warning["height"] > 1.5 * warning["lineHeight"], warning
    measured = page.evaluate(MEASURE_JS, ONE_LINE)
    found = {item["selector"] for item in measured}
    assert found == set(ONE_LINE), set(ONE_LINE) - found
    broken = [item for item in measured if item["height"] > 1.5 * item["lineHeight"]]
    assert not broken, "broken over two lines on paper:\n" + "\n".join(
        f"{item['selector']} {item['text']!r}: {item['height']:.1f}px, line {item['lineHeight']:.1f}px"
        for item in broken
    )
    # the table fits the sheet: nothing wider than the printable width
    table_width = page.locator("#issued-ids").evaluate("el => el.getBoundingClientRect().width")
    assert table_width <= PRINT_WIDTH, table_width

    chromium_pdf = page.pdf(format="A4")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "print-id-notice-20-chromium.pdf").write_bytes(chromium_pdf)
    reader = PdfReader(io.BytesIO(chromium_pdf))
    assert len(reader.pages) == 1, f"{len(reader.pages)} pages"
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4_POINTS, abs=1)
    # Chromium maps some kanji of its PDF text to their Kangxi radicals (⽇ for 日); NFKC folds them back.
    text = unicodedata.normalize("NFKC", "".join(reader.pages[0].extract_text().split()))
    assert "初期パスワードは大切に保管し" in text
    for naccs_id in NaccsUserId.objects.filter(issued_by=notice):
        assert naccs_id.naccs_user_id in text


@pytest.mark.usefixtures("require_pdf")
def test_pdf_de_hozon_downloads_the_notice_as_one_a4_page(page: Page, customer, notice):
    open_notice(page, customer, notice)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDFで保存").click()
    download = download_info.value

    assert download.suggested_filename == f"id-notice-{notice.reception_number}.pdf"
    path = RESULTS_DIR / "print-id-notice-20-weasyprint.pdf"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    download.save_as(path)
    reader = PdfReader(path)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4_POINTS, abs=1)
    text = "".join(reader.pages[0].extract_text().split())
    assert "初期パスワードは大切に保管し" in text
    for naccs_id in NaccsUserId.objects.filter(issued_by=notice):
        assert naccs_id.naccs_user_id in text
    assert_screen(page, "id-notice")  # the download left the screen where it was
