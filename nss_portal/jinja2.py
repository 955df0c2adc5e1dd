"""The Jinja2 environment of the hot rows (README, "Performance"): the 50-row tables render their rows with Jinja2,
several times faster per row than Django's template language, inside pages that stay Django templates
(`{% load jinja_partials %}{% jinja "…" rows=… %}`, nss_portal/templatetags/jinja_partials.py).

Only what the rows need is offered, each the project's one implementation: Django's translations (`_`, and the
plural texts as Python functions so that makemessages extracts them), `url` (django.urls.reverse; a row's pk link
reversed once per name) and the date filters of applications/dates.py. Autoescaping is on, as in Django templates.
"""

import functools

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext, ngettext, pgettext
from jinja2 import Environment

from applications import dates

# A pk no row has, written into a reversed URL to find where the pk goes.
_PK_MARK = 987654321987654321


@functools.lru_cache(maxsize=64)
def _pk_url_parts(name: str, script_prefix: str) -> tuple[str, str]:
    """The URL of `name` around its `pk`, reversed once per name and script prefix: ("/applications/", "/")."""
    url = reverse(name, kwargs={"pk": _PK_MARK})
    before, _mark, after = url.partition(str(_PK_MARK))
    return before, after


@receiver(setting_changed)
def _url_conf_changed(*, setting: str, **kwargs) -> None:
    if setting == "ROOT_URLCONF":  # tests only: the URLs themselves changed
        _pk_url_parts.cache_clear()


def url(name: str, **kwargs) -> str:
    """django.urls.reverse, as `url("app:name", pk=…)` in the Jinja2 templates. A URL whose one argument is an
    integer pk (every link of a row) is reversed once and then filled in: a 50-row page made 50 reverses."""
    if kwargs.keys() == {"pk"} and type(kwargs["pk"]) is int and kwargs["pk"] >= 0:
        before, after = _pk_url_parts(name, get_script_prefix())
        return f"{before}{kwargs['pk']}{after}"
    return reverse(name, kwargs=kwargs or None)


def id_count(count: int) -> str:
    """「2件」: how many IDs an application names (a plural text, written here so that makemessages finds it)."""
    return ngettext("%(n)s件", "%(n)s件", count) % {"n": count}


def environment(**options) -> Environment:
    options.pop("autoescape", None)
    env = Environment(**options, autoescape=True, extensions=["jinja2.ext.i18n"])
    # Old-style gettext: `_("…%(x)s…")|format(x=…)`, which makemessages extracts from the template like a Django one.
    env.install_gettext_callables(gettext, ngettext, newstyle=False, pgettext=pgettext)
    env.globals["url"] = url
    env.globals["id_count"] = id_count
    env.filters.update(
        nss_date=dates.format_date,
        nss_datetime=dates.format_datetime,
        nss_ymd=dates.format_ymd,
        nss_hm=dates.format_hm,
    )
    return env
