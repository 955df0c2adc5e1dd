"""審査キュー's filters are drawn by Jinja2 (templates/jinja2/reviews/queue_filters.html) with the markup that
crispy-forms' bootstrap5 pack gives the same fields: this holds the two to each other, in both languages, for the
default view, every kind of refused value and hostile text, so a field is marked and its error tied to it one way
whichever renders it (and an upgrade of crispy-forms that changes its markup fails here)."""

import pytest
from django.template import engines
from django.utils import translation
from hypothesis import example, given, settings
from hypothesis import strategies as st

from devtools.html import Node, parse_html
from reviews.forms import QueueFilterForm
from tests.factories import method

pytestmark = pytest.mark.django_db

# The filters as templates/reviews/queue.html drew them with crispy-forms.
CRISPY = """{% load i18n crispy_forms_tags %}<form method="get" class="mb-3" role="search">
  <div class="row g-2 align-items-end">
    <div class="col-md-6 col-xl-2">{{ form.status|as_crispy_field }}</div>
    <div class="col-md-6 col-xl-2">{{ form.kind|as_crispy_field }}</div>
    <div class="col-md-6 col-xl-2">{{ form.method|as_crispy_field }}</div>
    <div class="col-md-6 col-xl-2">{{ form.sort|as_crispy_field }}</div>
    <div class="col-md-6 col-xl-4">{{ form.q|as_crispy_field }}</div>
  </div>
  <div class="d-flex flex-wrap align-items-center gap-4">
    {{ form.overdue|as_crispy_field }}{{ form.mine|as_crispy_field }}
    <button type="submit" class="btn btn-primary text-nowrap mb-3">{% translate "絞り込む" %}</button>
  </div>
</form>"""

STATES = [
    {},
    {"status": ""},
    {"status": "approved", "kind": "remove_broker_ids", "method": "netnaccs", "sort": "-start", "q": "通関"},
    {"status": "bogus"},
    {"kind": "bogus"},
    {"method": "bogus"},
    {"sort": "bogus"},
    {"q": "x" * 101},
    {"q": '<script>alert(1)</script>"><img src=x>'},
    {"overdue": "on", "mine": "on"},
    {"status": "bogus", "kind": "x", "method": "y", "sort": "z", "q": "q" * 200, "overdue": "on"},
]


def normalised(html: str) -> list:
    """The document as a browser reads it, whatever the templates' layout and however a character is escaped
    (Django writes &#x27;, Jinja2 &#39;): each element with its attributes in order, texts with their runs of
    whitespace as one space."""

    def tree(node: Node) -> list:
        parts = []
        for child in node.children:
            if isinstance(child, Node):
                parts.append((child.tag, tuple(child.attrs.items()), tree(child)))
            elif child.split():
                parts.append(" ".join(child.split()))
        return parts

    return tree(parse_html(html))


def both(data: dict) -> tuple[str, str]:
    form = QueueFilterForm(data)
    form.is_valid()
    fast = engines["jinja2"].get_template("reviews/queue_filters.html").render({"form": form})
    reference = engines["django"].from_string(CRISPY).render({"form": form})
    return normalised(fast), normalised(reference)


@pytest.fixture(autouse=True)
def methods():
    method("interactive")
    method("netnaccs")


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("data", STATES, ids=range(len(STATES)))
def test_the_filters_are_crispys_markup(data, language):
    with translation.override(language):
        fast, reference = both(data)
    assert fast == reference
    assert ("is-invalid" in str(fast)) == bool(QueueFilterForm(data).errors)


@settings(max_examples=40)
@given(
    data=st.dictionaries(
        st.sampled_from(["status", "kind", "method", "sort", "q", "overdue", "mine"]),
        st.text(max_size=120).filter(lambda text: "\x00" not in text),
    )
)
@example(data={"q": "&lt;&amp;{{ 7*7 }}"})
def test_the_filters_are_crispys_markup_for_any_query(data):
    fast, reference = both(data)
    assert fast == reference
