"""The English catalogue (locale/en) is complete and compiled, and the language follows the cookie only.

Source strings are Japanese; English comes from locale/en/LC_MESSAGES/django.po (compiled to django.mo,
which is committed). The catalogue tests extract the messages afresh from a copy of the project, so a
string marked for translation but never translated (or a .mo left behind its .po) fails here rather than
showing up in Japanese on an English page. They need GNU gettext (xgettext, msgmerge, msgfmt), as
`manage.py makemessages` does.
"""

import gettext
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

PROJECT_DIR = Path(settings.BASE_DIR)
PO_PATH = PROJECT_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# The same command that maintains the committed catalogue (see the Makefile's `messages` target).
MAKEMESSAGES = ["makemessages", "-l", "en", "--no-obsolete"]
MAKEMESSAGES += ["--ignore=.venv", "--ignore=.tools", "--ignore=var", "--ignore=tests"]
# Not copied into the temporary project: environments, caches, VCS data and the output of test runs.
NOT_COPIED = {
    ".venv",
    ".tools",
    "var",
    ".git",
    "tests",
    "node_modules",
    "test-results",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
}


# ----------------------------------------------------------------------------------------------------
# A small .po reader (stdlib only)
# ----------------------------------------------------------------------------------------------------


@dataclass
class PoEntry:
    msgid: str
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)  # one item, or one per plural form
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    def describe(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"{context}{self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"\s*$')
_CONTINUATION = re.compile(r'^"(.*)"\s*$')


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def parse_po(path: Path) -> list[PoEntry]:
    """Entries of a .po file, header included (msgid ""); obsolete (#~) entries are left out."""
    entries: list[PoEntry] = []
    flags: set[str] = set()
    parts: dict[str, str] = {}
    current: str | None = None

    def finish():
        nonlocal flags, parts, current
        if "msgid" in parts:
            plural_indexes = sorted(int(k[7:-1]) for k in parts if k.startswith("msgstr["))
            msgstr = (
                [parts[f"msgstr[{i}]"] for i in plural_indexes]
                if plural_indexes
                else [parts.get("msgstr", "")]
            )
            entries.append(
                PoEntry(
                    msgid=parts["msgid"],
                    msgctxt=parts.get("msgctxt"),
                    msgid_plural=parts.get("msgid_plural"),
                    msgstr=msgstr,
                    flags=flags,
                )
            )
        flags, parts, current = set(), {}, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#~"):
            continue
        elif line.startswith("#,"):
            if "msgid" in parts:  # a new entry starts without a blank line before it
                finish()
            flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
        elif line.startswith("#"):
            continue
        elif match := _KEYWORD.match(line):
            keyword = match.group(1)
            if keyword in ("msgctxt", "msgid") and "msgid" in parts:  # no blank line before the next entry
                finish()
            current = keyword
            parts[current] = _unquote(match.group(3))
        elif (match := _CONTINUATION.match(line)) and current:
            parts[current] += _unquote(match.group(1))
        else:
            raise ValueError(f"{path}: cannot parse line {raw!r}")
    finish()
    return entries


def catalogue(path: Path) -> dict[tuple[str | None, str], PoEntry]:
    return {entry.key: entry for entry in parse_po(path) if entry.msgid}


def test_po_reader_handles_continuations_plurals_context_and_flags(tmp_path):
    po = tmp_path / "sample.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#: a.py:1\n#, fuzzy, python-format\nmsgid ""\n"長い"\n"文"\nmsgstr "A long \\"sentence\\""\n\n'
        'msgctxt "menu"\nmsgid "%(n)s件"\nmsgid_plural "%(n)s件"\nmsgstr[0] "%(n)s item"\nmsgstr[1] ""\n\n'
        '#~ msgid "古い"\n#~ msgstr "old"\n',
        encoding="utf-8",
    )
    entries = parse_po(po)
    assert [e.msgid for e in entries] == ["", "長い文", "%(n)s件"]
    assert entries[1].msgstr == ['A long "sentence"'] and entries[1].flags == {"fuzzy", "python-format"}
    assert entries[2].msgctxt == "menu" and entries[2].msgid_plural == "%(n)s件"
    assert entries[2].msgstr == ["%(n)s item", ""]


# ----------------------------------------------------------------------------------------------------
# (a) the committed catalogue covers every marked string
# ----------------------------------------------------------------------------------------------------


def _require_gettext_tools():
    missing = [tool for tool in ("xgettext", "msgmerge", "msguniq", "msgfmt") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"GNU gettext is needed for the catalogue tests; not found: {', '.join(missing)}", pytrace=False
        )


def _ignore_for_copy(directory: str, names: list[str]) -> set[str]:
    ignored = {name for name in names if name in NOT_COPIED or name.endswith((".pyc", ".mo"))}
    if Path(directory).resolve() == PROJECT_DIR.resolve():
        ignored |= {name for name in names if name in {"locale", ".env"}}
    return ignored


@pytest.fixture(scope="module")
def fresh_po(tmp_path_factory) -> Path:
    """A django.po extracted from a copy of the project's sources; the committed one is untouched."""
    _require_gettext_tools()
    copy = tmp_path_factory.mktemp("i18n") / "project"
    shutil.copytree(PROJECT_DIR, copy, ignore=_ignore_for_copy, symlinks=True)
    (copy / "locale").mkdir()
    result = subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"makemessages failed:\n{result.stdout}\n{result.stderr}"
    po = copy / "locale" / "en" / "LC_MESSAGES" / "django.po"
    assert po.exists(), f"makemessages wrote no catalogue:\n{result.stdout}\n{result.stderr}"
    return po


def test_every_marked_string_is_translated(fresh_po):
    committed = catalogue(PO_PATH)
    fresh = catalogue(fresh_po)
    assert fresh, "no translatable strings were extracted at all"
    problems = []
    for key, entry in sorted(fresh.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        have = committed.get(key)
        if have is None:
            problems.append(f"missing:      {entry.describe()}")
        elif entry.msgid_plural is not None and have.msgid_plural != entry.msgid_plural:
            problems.append(f"plural form changed: {entry.describe()} (now {entry.msgid_plural!r})")
        elif "fuzzy" in have.flags:
            problems.append(f"fuzzy:        {entry.describe()}")
        elif not have.msgstr or not all(have.msgstr):
            problems.append(f"untranslated: {entry.describe()}")
    assert not problems, (
        f"{PO_PATH.relative_to(PROJECT_DIR)} is out of date with the sources ({len(problems)} problem(s)); "
        "run `make messages`, translate, and compile:\n  " + "\n  ".join(problems)
    )


def test_catalogue_header_is_english_and_has_no_fuzzy_entries():
    entries = parse_po(PO_PATH)
    header = next(entry for entry in entries if entry.msgid == "")
    assert "Language: en\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header.msgstr[0]
    assert "fuzzy" not in header.flags
    assert [entry.describe() for entry in entries if "fuzzy" in entry.flags] == []


_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0\- +]*\d*(?:\.\d+)?[sdifrxXeEgGc%]")


def _placeholders(text: str) -> Counter:
    return Counter(m.group(0) for m in _PLACEHOLDER.finditer(text) if m.group(0) != "%%")


def test_translations_keep_the_placeholders():
    problems = []
    for entry in catalogue(PO_PATH).values():
        if "python-format" not in entry.flags:
            continue
        source = _placeholders(entry.msgid) | _placeholders(entry.msgid_plural or "")
        for translated in filter(None, entry.msgstr):  # untranslated ones fail the completeness test
            got = _placeholders(translated)
            # A plural form may leave a placeholder out ("one ID"); nothing may be added or renamed.
            if (entry.msgid_plural is None and got != source) or not set(got) <= set(source):
                problems.append(f"{entry.describe()} -> {translated!r}")
    assert not problems, "placeholders differ between msgid and msgstr:\n  " + "\n  ".join(problems)


# ----------------------------------------------------------------------------------------------------
# (b) the committed .mo is the compiled .po
# ----------------------------------------------------------------------------------------------------


def test_compiled_catalogue_is_up_to_date(tmp_path):
    _require_gettext_tools()
    assert MO_PATH.exists(), f"{MO_PATH.relative_to(PROJECT_DIR)} is missing: run `make messages`"
    expected_mo = tmp_path / "django.mo"
    result = subprocess.run(
        ["msgfmt", "--check-format", "--check-header", "-o", str(expected_mo), str(PO_PATH)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"msgfmt rejects {PO_PATH.name}:\n{result.stderr}"
    with expected_mo.open("rb") as fresh, MO_PATH.open("rb") as committed:
        expected = gettext.GNUTranslations(fresh)._catalog
        actual = gettext.GNUTranslations(committed)._catalog
    stale = sorted(
        (str(key) for key in expected.keys() | actual.keys() if expected.get(key) != actual.get(key)), key=str
    )
    assert not stale, (
        f"{MO_PATH.relative_to(PROJECT_DIR)} differs from {PO_PATH.name} in {len(stale)} message(s); run "
        "`manage.py compilemessages`:\n  " + "\n  ".join(stale)
    )


# ----------------------------------------------------------------------------------------------------
# (c) the language is the cookie's, never the browser's
# ----------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _reset_active_language():
    """The locale middleware activates the request's language in this thread; do not leak it further."""
    yield
    translation.deactivate()


def test_login_page_is_english_with_the_language_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    for english in ("User ID", "Password", "Log in", "NACCS Support System"):
        assert english in html
    for japanese in ("ユーザーID", "パスワード", "ログイン画面"):
        assert japanese not in html
    assert response.headers["Content-Language"] == "en"


def test_login_page_is_japanese_without_the_cookie_whatever_the_browser_asks(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ja">' in html
    for japanese in ("ユーザーID", "パスワード", "ログイン画面"):
        assert japanese in html
    assert "User ID" not in html
    assert response.headers["Content-Language"] == "ja"


def test_unknown_language_cookie_falls_back_to_japanese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="ja">' in html and "ユーザーID" in html


def test_language_switch_sets_the_cookie_and_the_next_page_is_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302 and response.headers["Location"] == "/login/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get("/login/").content.decode()
    assert '<html lang="en">' in html and "User ID" in html
    # …and back to Japanese.
    client.post("/i18n/setlang/", {"language": "ja", "next": "/login/"})
    html = client.get("/login/").content.decode()
    assert '<html lang="ja">' in html and "ユーザーID" in html


def test_the_e_mails_are_translatable_and_japanese_by_default(settings):
    from notifications.services import _render

    context = {
        "company_name": "デモ通関株式会社",
        "office_name": "東京事業所",
        "applicant_department": "通関部",
        "applicant_name": "山田 花子",
        "reception_number": "1000001L",
        "start_date": "2026年11月27日",
        "login_url": "http://127.0.0.1:8000/login/?next=/applications/1/",
    }
    subject, text, _html = _render("application_approved", context)
    assert subject == "【NSS】利用申込確認完了のお知らせ"
    assert "山田 花子 様" in text
    settings.LANGUAGE_CODE = "en"  # a deployment whose e-mails go out in English
    subject, text, html = _render("application_approved", context)
    assert subject == "[NSS] Your application has been checked"
    assert "Dear 山田 花子" in text and '<html lang="en">' in html


@pytest.mark.django_db
def test_the_rows_drawn_by_jinja2_follow_the_language_like_the_page_around_them(
    client, reviewer, frozen_clock
):
    """The rows of 申込状況一覧 and 審査キュー are Jinja2 templates (nss_portal/jinja2.py): their texts, plural
    counts and dates come from the same catalogue and date formats as the Django page around them."""
    from django.test import Client

    from applications import dates
    from tests.factories import NaccsUserIdFactory, otp_login, submitted_application, submitted_removal

    addition = submitted_application()
    target = NaccsUserIdFactory(contract=addition.contract, identifier="R01")
    removal = submitted_removal(contract=addition.contract, targets=[target])
    customer = Client()
    customer.force_login(addition.created_by)
    staff = otp_login(client, reviewer)
    expected = {
        "en": ["Add customs-broker IDs", "Remove customs-broker IDs", "Received", "Desired end date"],
        "ja": ["通関士IDの追加", "通関士IDの削除", "受付", "利用終了希望日"],
    }
    for language, other in (("en", "ja"), ("ja", "en")):
        for browser in (customer, staff):
            browser.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        listing = customer.get("/applications/").content.decode()
        queue = staff.get("/staff/").content.decode()
        with translation.override(language):
            end_date = dates.format_date(removal.desired_end_date)
            select = translation.gettext("%(number)sを選択") % {"number": addition.reception_number}
            count = translation.ngettext("%(n)s件", "%(n)s件", 1) % {"n": 1}
        for html in (listing, queue):
            for text in expected[language]:
                assert text in html, (language, text)
            for text in expected[other]:
                assert f">{text}<" not in html and f"{text}（" not in html, (language, text)
        assert f"{end_date}</td>" in listing and count in listing
        assert select in queue
