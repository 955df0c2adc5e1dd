from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UtbGatewayConfig(AppConfig):
    name = "utb_gateway"
    verbose_name = _("UTBゲートウェイ")
