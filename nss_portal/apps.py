from django.apps import AppConfig


class NssPortalConfig(AppConfig):
    """The project package doubles as the app of the portal shell (login, menu, guidance, checks)."""

    name = "nss_portal"
    verbose_name = "NSS portal"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)
