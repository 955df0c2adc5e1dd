"""The Celery app. Settings come from Django settings with the CELERY_ prefix (nss_portal/settings.py)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nss_portal.settings")

app = Celery("nss_portal")


@app.on_configure.connect
def _refuse_to_start_when_misconfigured(sender, **kwargs):
    """The worker and beat read the configuration first thing: a production process without its secrets stops
    there with one line (nss_portal/production.py). Web processes have loaded the settings long before."""
    from nss_portal.production import settings_or_exit

    settings_or_exit()


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
