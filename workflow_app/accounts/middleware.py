"""Language: Chinese unless the person chose English.

Django's ``LocaleMiddleware`` follows the browser's Accept-Language, so an English-configured
browser would get English pages nobody asked for on a Chinese government platform. Here the
language is the one chosen with the header's switch (the ``django_language`` cookie, set by
``/i18n/setlang/``), and ``LANGUAGE_CODE`` (zh-hans) otherwise. The choice sticks for the whole
visit and the next ones.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChosenLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
