"""The .po catalogues: every key the code and templates use has a German and an English text,
nothing is fuzzy or empty, both languages agree on keys and placeholders, and extraction (what
`make messages` runs) finds every key the code uses."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from tools import messages

from kontingent.i18n import Translator
from kontingent.i18n.catalogues import LANGUAGES, read_catalog, texts

SRC = Path(__file__).resolve().parents[3] / "src" / "kontingent"
# Any literal key handed to the text functions, as a plain search sees it (no Babel).
CALL = re.compile(r"""\b(?:t|N_|plural|tn)\(\s*["']([a-z0-9_.]+)["']""")


@pytest.fixture(scope="module")
def extracted() -> set[str | tuple[str, str]]:
    return set(messages.keys(messages.extract()))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_the_code_uses_has_a_text_in_german_and_english(
    extracted: set[str | tuple[str, str]],
) -> None:
    for lang in LANGUAGES:
        held = texts(lang)
        missing = {k for k in extracted if k not in held.singular and k not in held.plural}
        assert not missing, f"{lang}: no text for {sorted(missing, key=str)}"


def test_no_entry_is_fuzzy_or_empty() -> None:
    for lang in LANGUAGES:
        for message in read_catalog(lang):
            if not message.id:
                continue  # the header
            assert not message.fuzzy, f"{lang}: {message.id} is fuzzy"
            forms = message.string if message.pluralizable else [message.string]
            assert all(f.strip() for f in forms), f"{lang}: {message.id} has an empty text"


def test_german_and_english_hold_the_same_keys_and_placeholders() -> None:
    de, en = ({m.id: m.string for m in read_catalog(lang) if m.id} for lang in LANGUAGES)
    assert set(de) == set(en)
    for key, german in de.items():
        if isinstance(german, str):
            assert _fields(german) == _fields(en[key]), key
        else:  # plural forms: "{n}" may be left out where one is meant ("jede Sekunde")
            fields = [_fields(form) - {"n"} for form in (*german, *en[key])]
            assert all(f == fields[0] for f in fields), key


def test_extraction_finds_every_key_the_code_uses(
    extracted: set[str | tuple[str, str]],
) -> None:
    sources = [*SRC.rglob("*.py"), *SRC.rglob("templates/*.html")]
    used = {key for path in sources for key in CALL.findall(path.read_text())}
    found = {k if isinstance(k, str) else k[0] for k in extracted}
    assert used - found == set()
    assert len(used) > 200  # the pattern still finds the calls


def test_every_text_in_the_catalogues_is_asked_for_by_some_code(
    extracted: set[str | tuple[str, str]],
) -> None:
    """A text no code asks for is a key typed differently or left behind by a change."""
    for lang in LANGUAGES:
        held = texts(lang)
        assert (held.singular | held.plural) - extracted == set(), lang


def test_a_key_without_a_text_is_an_error_never_shown() -> None:
    with pytest.raises(KeyError, match=r"no\.such\.key"):
        Translator("de")("no.such.key")
    with pytest.raises(KeyError, match=r"choose\.title"):
        Translator("en").plural("choose.title", "choose.title.plural", 2)
