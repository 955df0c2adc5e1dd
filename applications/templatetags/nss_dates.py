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
