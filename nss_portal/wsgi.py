import os

from django.core.wsgi import get_wsgi_application

from nss_portal.production import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nss_portal.settings")
settings_or_exit()  # one line and exit code 4 (gunicorn then stops instead of respawning) when misconfigured

application = get_wsgi_application()
