"""CSV出力 of the staff queue (SPEC §8): UTF-8 with a BOM so that Excel opens it as such, and safe against formula
injection — a cell that a spreadsheet would read as a formula (starting with =, +, -, @, a tab or a carriage
return, also in their full-width forms) is written with a leading apostrophe, so it opens as text.

The dates of an application are those of its kind (applications/kinds.py): 希望日 is the date the customer asked
for (利用開始希望日, a removal's 利用終了希望日), 確定日 the one approval fixed (利用開始日, 利用終了日); the
column 申込の種類 says which. A kind that asks for or fixes no date leaves the cell empty."""

import csv
import io
from collections.abc import Iterable, Iterator

from django.utils.translation import gettext as _

from applications import dates, kinds
from applications.models import Application

BOM = "\ufeff"
# What a spreadsheet reads as the start of a formula. Excel also folds full-width ＝＋－＠ to their ASCII forms.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def cell(value) -> str:
    """One value as CSV text that no spreadsheet runs."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _header() -> list[str]:
    return [
        _("申込受付番号"),
        _("申込の種類"),
        _("状態"),
        _("利用者コード"),
        _("会社名"),
        _("事業所名"),
        _("処理方式"),
        _("ID数"),
        _("申込日時"),
        _("希望日"),
        _("回答予定日"),
        _("回答予定日超過"),
        _("開始日間近"),
        _("担当者"),
        _("確定日"),
    ]


def _day(value) -> str:
    """Dates as Excel reads them as dates whatever its locale: 2026/12/09 (as the queue shows them)."""
    return dates.format_ymd(value)


def _instant(value) -> str:
    return f"{dates.format_ymd(value)} {dates.format_hm(value)}" if value else ""


def _methods(application: Application) -> str:
    """「インタラクティブ処理方式×2、netNACCS×1」 from the counts the queue's selector gives each row."""
    return "、".join(f"{name}×{count}" for name, count in application.method_counts)


def _row(application: Application) -> list[str]:
    yes = _("該当")
    kind = kinds.kind_of(application)
    return [
        application.reception_number,
        application.kind_label,
        application.status_label,
        application.contract.user_code,
        application.contract.company_name,
        application.contract.office_name,
        _methods(application),
        str(sum(count for _method, count in application.method_counts)),
        _instant(application.submitted_at),
        _day(kind.desired_date(application)),
        _day(application.answer_due_on),
        yes if application.is_overdue else "",
        yes if application.is_start_date_near else "",
        application.reviewer.get_username() if application.reviewer_id else "",
        _day(kind.confirmed_date(application)),
    ]


def queue_csv_lines(first: Application | None, rest: Iterable[Application]) -> Iterator[str]:
    """The CSV text, line by line (for a streaming response): the BOM and the header, then one line per
    application (`first`, then `rest`: the view reads the first row itself to catch a refused search)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values) -> str:
        writer.writerow([cell(value) for value in values])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield BOM + line(_header())
    if first is None:
        return
    yield line(_row(first))
    for application in rest:
        yield line(_row(application))
