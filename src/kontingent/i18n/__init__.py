"""Texts in the reader's language: gettext catalogues (.po, edited by translators) read with
Babel, and dates, times, numbers and lists by CLDR.

Used by the portal (web/) and by the messages that leave the system (notifications/). Keys
are symbolic msgids (`t("choose.title")`); README.md, "Texts and translations", says how a
translator edits a .po and how `make messages` finds new keys.
"""

from kontingent.i18n.catalogues import LANGUAGES, load_all
from kontingent.i18n.translator import DEFAULT, LOCALES, N_, Translator, phone_display, pick

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "LOCALES",
    "N_",
    "Translator",
    "load_all",
    "phone_display",
    "pick",
]
