"""The Celery app. Settings come from Django settings with the CELERY_ prefix (nss_portal/settings.py)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nss_portal.settings")

app = Celery("nss_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
