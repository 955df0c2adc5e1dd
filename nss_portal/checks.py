from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def secret_key_from_environment(app_configs, **kwargs):
    """The embedded default key is for a local demo only; a deployment must bring its own."""
    if settings.SECRET_KEY == settings.INSECURE_DEFAULT_SECRET_KEY:
        return [
            Error(
                "DJANGO_SECRET_KEY is not set: the embedded local default must not be used in production.",
                id="nss_portal.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def encryption_keys_from_environment(app_configs, **kwargs):
    """Initial passwords are encrypted with NSS_ENCRYPTION_KEYS; the key derived from SECRET_KEY is local only."""
    if not settings.NSS_ENCRYPTION_KEYS:
        return [
            Error(
                "NSS_ENCRYPTION_KEYS is not set: initial passwords would be encrypted with a key derived from "
                "SECRET_KEY, which is meant for the local demo only.",
                id="nss_portal.E002",
            )
        ]
    return []
