"""tools/catalogue_to_po.py: the lead reruns it after merging branches that still add texts to
a Python dictionary; it adds what is new and never overwrites what the catalogues hold."""

from __future__ import annotations

from pathlib import Path

from tools import catalogue_to_po as tool

MODULE = '''
"""Texts."""
from __future__ import annotations

M: dict[str, tuple[str, str]] = {
    # staff console
    "staff.title": ("Anmeldung", "Sign in"),
    "staff.hint": (
        "Mit Ihrem Dienstkonto "
        "anmelden.",
        "Sign in with your staff account.",
    ),
    # audit
    "audit.title": ("Protokoll", "Audit log"),
}
NOT_TEXTS = {"a": 1}
'''


def _module(tmp_path: Path, text: str = MODULE) -> Path:
    path = tmp_path / "texts.py"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_pair_becomes_a_german_and_an_english_entry(tmp_path: Path) -> None:
    texts = tool.texts_of(_module(tmp_path))
    assert [t.key for t in texts] == ["staff.title", "staff.hint", "audit.title"]
    added, differing = tool.merge(texts, locales=tmp_path / "locale")
    assert (added, differing) == (6, [])
    de, en = tool.load("de", tmp_path / "locale"), tool.load("en", tmp_path / "locale")
    assert de["staff.hint"].string == "Mit Ihrem Dienstkonto anmelden."
    assert en["audit.title"].string == "Audit log"
    assert de["audit.title"].user_comments == ["audit"]  # where it appears, for translators
    assert de.plural_forms == "nplurals=2; plural=(n != 1);"


def test_a_rerun_adds_nothing_and_keeps_the_translators_edits(tmp_path: Path) -> None:
    locales = tmp_path / "locale"
    tool.merge(tool.texts_of(_module(tmp_path)), locales=locales)
    de = tool.load("de", locales)
    de["staff.title"].string = "Anmelden"  # a translator's edit
    tool.save(de, "de", locales)
    added, differing = tool.merge(tool.texts_of(_module(tmp_path)), locales=locales)
    assert added == 0
    assert differing == ["de staff.title"]  # listed for the lead, not overwritten
    assert tool.load("de", locales)["staff.title"].string == "Anmelden"


def test_take_module_overwrites_only_what_differs(tmp_path: Path) -> None:
    locales = tmp_path / "locale"
    tool.merge(tool.texts_of(_module(tmp_path)), locales=locales)
    changed = MODULE.replace('"Protokoll"', '"Prüfprotokoll"')
    tool.merge(tool.texts_of(_module(tmp_path, changed)), take_module=True, locales=locales)
    assert tool.load("de", locales)["audit.title"].string == "Prüfprotokoll"
    assert tool.load("en", locales)["audit.title"].string == "Audit log"


def test_a_module_without_text_pairs_is_refused(tmp_path: Path) -> None:
    path = _module(tmp_path, 'X = {"a": ("only one",)}\n')
    assert tool.texts_of(path) == []
    assert tool.main([str(path)]) == 2
