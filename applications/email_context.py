"""What an e-mail about an application is given (SPEC §5): the one builder of its template context.

The receipt (applications/services.py) and the confirmation and rejection (reviews/services.py) all start from
it; each template in templates/notifications/ shows what it needs. Plain data only, as notifications expects, and
dates in the e-mails' language (settings.LANGUAGE_CODE) whatever the language of the screen that caused them.
"""

from collections.abc import Iterable
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from . import dates
from .models import Application, ApplicationItem


def application_login_url(application: Application) -> str:
    """The portal's login, leading on to the application's 詳細 (SPEC §5: the link in the e-mail)."""
    detail = reverse("applications:application-detail", kwargs={"pk": application.pk})
    query = urlencode({"next": detail}, safe="/")
    return f"{settings.NSS_BASE_URL.rstrip('/')}{reverse('login')}?{query}"


def _kind_label(application: Application, language: str) -> str:
    with translation.override(language):
        return str(application.get_kind_display())


def application_email_context(
    application: Application, *, items: Iterable[ApplicationItem] | None = None, **extra
) -> dict:
    """Reception number, office and applicant, the asked IDs, the desired and the confirmed start date, and the
    login link; `extra` adds what one e-mail alone says (the rejection's reason). `items` saves the query when the
    caller has them already (with their processing method)."""
    if items is None:
        items = application.items.select_related("processing_method", "target").order_by("id")
    language = settings.LANGUAGE_CODE
    user_code = application.contract.user_code
    return {
        # SPEC §9: the e-mails say which kind it is; a removal or a password reset names the IDs it acts on (never
        # a password: the new initial passwords are only in ID通知内容).
        "kind": application.kind,
        "kind_label": _kind_label(application, language),
        "desired_end_date": dates.format_date(application.desired_end_date, language=language),
        "end_date": dates.format_date(application.end_date, language=language),
        "login_url": application_login_url(application),
        "reception_number": application.reception_number,
        "application_id": application.pk,
        "company_name": application.contract.company_name,
        "office_name": application.contract.office_name,
        "applicant_department": application.applicant_department,
        "applicant_name": application.applicant_name,
        "desired_start_date": dates.format_date(application.desired_start_date, language=language),
        "start_date": dates.format_date(application.start_date, language=language),
        "items": [
            {
                "processing_method": item.processing_method.name,
                "desired_identifier": item.desired_identifier,
                "broker_name": item.broker_name,
                "user_id": f"{user_code}{item.target.identifier}" if item.target_id else "",
            }
            for item in items
        ],
        **extra,
    }
