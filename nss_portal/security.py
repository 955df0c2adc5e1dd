from django.conf import settings


class SecurityHeadersMiddleware:
    """Content-Security-Policy (no 'unsafe-inline': the portal has no inline script or style) and
    Permissions-Policy on every response that has not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.NSS_CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", settings.NSS_PERMISSIONS_POLICY)
        return response
