"""The portal's languages: kept here so that `from kontingent.web.i18n import Translator`
goes on working; the texts and formats live in `kontingent.i18n`."""

from markupsafe import Markup, escape

from kontingent.i18n import DEFAULT, LANGUAGES, N_, Translator, phone_display, pick

__all__ = ["DEFAULT", "LANGUAGES", "N_", "Translator", "phone_display", "pick", "tel_links"]


HOTLINE = "116 117"
_HOTLINE_LINK = Markup('<a href="tel:116117" class="tel">116\u00a0117</a>')


def tel_links(value: object) -> object:
    """Every template value: text naming the hotline gets it as a `tel:` link (the rest of
    the text escaped as usual), so a phone can call it from wherever it appears."""
    if isinstance(value, str) and not isinstance(value, Markup) and HOTLINE in value:
        return _HOTLINE_LINK.join(escape(part) for part in value.split(HOTLINE))
    return value
