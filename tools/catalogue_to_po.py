"""Merge the texts of Python dictionaries `key -> (German, English)` into the .po catalogues.

    python tools/catalogue_to_po.py src/kontingent/web/catalogue.py [more modules ...]

Any module-level dictionary whose values are all pairs of strings is taken (web/catalogue.py's
`M`, a console's): the key becomes the msgid, the German text the
msgstr of de/messages.po, the English one that of en/messages.po. The module is parsed, never
imported, so it may come from another branch and need nothing installed.

Invariants kept here:
- An entry the catalogues already hold is never overwritten: a translator's edit survives a
  rerun. Where the module says something else, the key is listed (exit status 1) so that the
  lead decides; `--take-module` takes the module's text for those keys instead.
- A new entry gets the dictionary's section comment (`# waiting room`) as a translator comment,
  so the translator sees where on the portal it appears.
- Nothing else in a catalogue changes; run `make messages` afterwards to add the source
  locations and drop what no code asks for any more.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "src" / "kontingent" / "i18n" / "locale"
LANGUAGES = ("de", "en")  # the order of the pair in the dictionaries
HEADER = """\
# Texts of Kontingent in the language "{language}" (README.md, "Texts and translations").
# msgid is a symbolic key; msgstr is what people read. Keep {{placeholders}} as they are."""


@dataclass(frozen=True, slots=True)
class Text:
    key: str
    by_language: tuple[str, str]
    section: str  # the comment line above the entry's group, "" when none


def texts_of(path: Path) -> list[Text]:
    """Every entry of every module-level dictionary of string pairs in the module at `path`."""
    source = path.read_text(encoding="utf-8")
    sections = _sections(source)
    found: list[Text] = []
    for node in ast.parse(source, filename=str(path)).body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if not isinstance(value, ast.Dict) or not _is_pairs(value):
            continue
        for key_node, pair in zip(value.keys, value.values, strict=True):
            assert isinstance(key_node, ast.Constant)
            de, en = ast.literal_eval(pair)
            found.append(Text(key_node.value, (de, en), sections.get(key_node.lineno, "")))
    return found


def _is_pairs(node: ast.Dict) -> bool:
    if not node.keys:
        return False
    for key, value in zip(node.keys, node.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return False
        if not (isinstance(value, ast.Tuple) and len(value.elts) == 2):
            return False
        if not all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts):
            return False
    return True


def _sections(source: str) -> dict[int, str]:
    """Line number -> the last `# comment` line standing alone above it."""
    current, by_line = "", {}
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#") and not stripped.startswith("#!"):
            current = stripped.lstrip("# ").strip()
        by_line[number] = current
    return by_line


def load(language: str, locales: Path = LOCALES) -> Catalog:
    path = locales / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return Catalog(
            locale=language,
            project="kontingent",
            version="",
            copyright_holder="the Kontingent authors",
            charset="utf-8",
            fuzzy=False,
            header_comment=HEADER.format(language=language),
        )
    with path.open("rb") as f:
        return read_po(f, locale=language)


def save(catalog: Catalog, language: str, locales: Path = LOCALES) -> None:
    path = locales / language / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, include_lineno=False)


def merge(
    texts: list[Text], take_module: bool = False, locales: Path = LOCALES
) -> tuple[int, list[str]]:
    """(entries added, keys whose text differs from the catalogue's) over both languages."""
    added, differing = 0, []
    for i, language in enumerate(LANGUAGES):
        catalog = load(language, locales)
        for text in texts:
            wanted = text.by_language[i]
            held = catalog.get(text.key)
            if held is None:
                comments = [text.section] if text.section else []
                catalog.add(text.key, wanted, user_comments=comments)
                added += 1
            elif held.pluralizable:
                # A plural entry has one text per form: a translator has to split it.
                differing.append(f"{language} {text.key} (a plural entry now: edit the .po)")
            elif held.string != wanted:
                differing.append(f"{language} {text.key}")
                if take_module:
                    held.string = wanted
                    held.flags.discard("fuzzy")
        save(catalog, language, locales)
    return added, differing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="+", type=Path, help="Python files holding the dicts")
    parser.add_argument(
        "--take-module",
        action="store_true",
        help="where a catalogue already has a key with another text, take the module's text",
    )
    args = parser.parse_args(argv)
    texts = [text for module in args.modules for text in texts_of(module)]
    if not texts:
        print("no dictionary of (German, English) pairs found", file=sys.stderr)
        return 2
    added, differing = merge(texts, args.take_module)
    print(f"{len(texts)} keys read, {added} entries added to de and en")
    for entry in differing:
        verb = "took the module's text" if args.take_module else "kept the catalogue's text"
        print(f"differs: {entry} ({verb})")
    return 1 if differing and not args.take_module else 0


if __name__ == "__main__":
    sys.exit(main())
