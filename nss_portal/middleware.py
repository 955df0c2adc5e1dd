from django.conf import settings
from django.utils import translation


class JapaneseFirstLocaleMiddleware:
    """Japanese unless the user chose another language with the language switch (the language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language; the NSS portal is a Japanese system whose
    users often run English-language browsers at work, so the browser's preference is not taken as a choice.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        # override() restores the previous language afterwards, so nothing leaks to the next request on this thread.
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
