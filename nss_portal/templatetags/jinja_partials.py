"""`{% jinja "applications/rows.html" page=page %}`: a part of a Django template rendered by the Jinja2 engine
(nss_portal/jinja2.py, templates under templates/jinja2/) with the given values and the request — the rows of the
50-row tables, where the per-row cost of Django's template language shows (README, "Performance")."""

from django import template
from django.template import engines
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context, template_name: str, **values) -> str:
    rendered = engines["jinja2"].get_template(template_name).render(values, request=context.get("request"))
    return mark_safe(rendered)  # noqa: S308 - autoescaped by the Jinja2 environment
