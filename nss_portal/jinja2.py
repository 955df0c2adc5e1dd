"""The Jinja2 environment of the hot rows (README, "Performance"): the 50-row tables render their rows with Jinja2,
several times faster per row than Django's template language, inside pages that stay Django templates
(`{% load jinja_partials %}{% jinja "…" rows=… %}`, nss_portal/templatetags/jinja_partials.py).

Only what the rows need is offered, each the project's one implementation: Django's translations (`_`, and the
plural texts as Python functions so that makemessages extracts them), `url` (django.urls.reverse) and the date
filters of applications/dates.py. Autoescaping is on, as in Django templates.
"""

from django.urls import reverse
from django.utils.translation import gettext, ngettext, pgettext
from jinja2 import Environment

from applications import dates


def id_count(count: int) -> str:
    """「2件」: how many IDs an application names (a plural text, written here so that makemessages finds it)."""
    return ngettext("%(n)s件", "%(n)s件", count) % {"n": count}


def environment(**options) -> Environment:
    options.pop("autoescape", None)
    env = Environment(**options, autoescape=True, extensions=["jinja2.ext.i18n"])
    # Old-style gettext: `_("…%(x)s…")|format(x=…)`, which makemessages extracts from the template like a Django one.
    env.install_gettext_callables(gettext, ngettext, newstyle=False, pgettext=pgettext)
    env.globals["url"] = lambda name, **kwargs: reverse(name, kwargs=kwargs or None)
    env.globals["id_count"] = id_count
    env.filters.update(
        nss_date=dates.format_date,
        nss_datetime=dates.format_datetime,
        nss_ymd=dates.format_ymd,
        nss_hm=dates.format_hm,
    )
    return env
