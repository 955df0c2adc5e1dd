"""HTML to PDF with WeasyPrint, for 「PDFで保存」 of the ID notice (docs/decisions.md, "The ID notice as a PDF").

WeasyPrint draws with system libraries (Pango, HarfBuzz, fontconfig) and the fonts of the OS; the Japanese font is
Debian's fonts-noto-cjk (`make pdf` installs them all when run as root, the Dockerfile always). Where any of it is
missing the portal still runs: `html_to_pdf` raises `PdfUnavailable` and the caller shows a page that says so.
WeasyPrint is imported on first use, never at start-up, so that a server without the libraries starts, and so that
gunicorn's `--preload` arbiter never loads Pango before it forks its workers.

A document fetches nothing: every URL it names is refused (no file:// read, no request to any host), and its one
stylesheet is read from the static files by path.
"""

import logging
import threading

from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

# The Japanese faces asked for, best first: Noto Sans CJK JP (fonts-noto-cjk: Adobe-Japan1 with the ideographic
# variation sequences that names use), then the IPA fonts that Debian also packages. The stylesheet asks for none
# of them: this one rule does, so that the check below and the document name the same faces.
JAPANESE_FONTS = ("Noto Sans CJK JP", "IPAexGothic", "IPAGothic")
_FACES = ", ".join(f'"{face}"' for face in JAPANESE_FONTS)
FONT_RULE = f"html {{ font-family: {_FACES}, sans-serif; }}"

# Pango and fontconfig have had thread-safety bugs; a notice is drawn in about 0.3 s and seldom asked for, so one
# drawing at a time per process costs nothing.
_drawing = threading.Lock()


class PdfUnavailable(Exception):
    """This server cannot make PDFs: WeasyPrint, a system library it loads, or a Japanese font is missing."""


def _weasyprint():
    try:
        import weasyprint
    except (
        ImportError,
        OSError,
    ) as error:  # OSError: cffi could not load a shared library (libpango-1.0.so.0…)
        logger.warning("PDF output is not available: WeasyPrint cannot be loaded (%s)", error)
        raise PdfUnavailable(str(error)) from error
    return weasyprint


def _refusing_fetcher(weasyprint):
    class RefusingFetcher(weasyprint.urls.URLFetcher):
        """WeasyPrint asks this for every URL of the document (images, stylesheets, fonts): it gets none. WeasyPrint
        logs the refusal and draws the page without the resource."""

        def fetch(self, url, headers=None):
            raise ValueError(f"a PDF of the portal fetches nothing ({url})")

    return RefusingFetcher()


def html_to_pdf(html: str, *, stylesheet: str) -> bytes:
    """The PDF of `html` (a whole document), styled by the static file `stylesheet` ("css/id_notice_pdf.css").

    Raises PdfUnavailable when this server cannot make it, including when no Japanese font was found to draw it
    with: a PDF with a box for every kanji is no notice."""
    weasyprint = _weasyprint()
    path = finders.find(stylesheet)
    if path is None:
        raise ImproperlyConfigured(f"the PDF stylesheet {stylesheet} is not among the static files")
    fetcher = _refusing_fetcher(weasyprint)
    with _drawing:
        document = weasyprint.HTML(string=html, url_fetcher=fetcher).render(
            stylesheets=[
                weasyprint.CSS(string=FONT_RULE, url_fetcher=fetcher),
                weasyprint.CSS(filename=path, url_fetcher=fetcher),
            ]
        )
        pdf = document.write_pdf()
    # The faces the PDF embeds are known once it is written (Document.fonts, filled by write_pdf).
    faces = {getattr(font, "family", "") for font in document.fonts.values()}
    if not faces & set(JAPANESE_FONTS):
        logger.warning(
            "PDF output is not available: no Japanese font (drawn in %s; apt-get install fonts-noto-cjk)",
            ", ".join(sorted(faces)) or "nothing",
        )
        raise PdfUnavailable("no Japanese font")
    return pdf
