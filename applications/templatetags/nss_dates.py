"""`{% load nss_dates %}`: `{{ day|nss_date }}` and `{{ instant|nss_datetime }}`, in the page's language (the one
format of applications/dates.py; "" for no value, so `|default:"—"` still applies)."""

from django import template

from applications import dates

register = template.Library()


@register.filter
def nss_date(value) -> str:
    return dates.format_date(value)


@register.filter
def nss_datetime(value) -> str:
    return dates.format_datetime(value)


@register.filter
def nss_ymd(value) -> str:
    """2026/12/09, the staff tables' and the CSV's short form (an instant: its day in Japan)."""
    return dates.format_ymd(value)


@register.filter
def nss_hm(value) -> str:
    """10:05, an instant's time in Japan."""
    return dates.format_hm(value)
