"""The portal's languages: kept here so that `from kontingent.web.i18n import Translator`
goes on working; the texts and formats live in `kontingent.i18n`."""

from kontingent.i18n import DEFAULT, LANGUAGES, N_, Translator, phone_display, pick

__all__ = ["DEFAULT", "LANGUAGES", "N_", "Translator", "phone_display", "pick"]
