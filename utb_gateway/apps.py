from django.apps import AppConfig


class UtbGatewayConfig(AppConfig):
    name = "utb_gateway"
