"""`make messages`: find every text key in the code and templates, write the template
(messages.pot) and bring both .po files in line with it.

    python tools/messages.py            # extract and update
    python tools/messages.py --check    # only say what is missing or unused (exit 1 if any)

Invariants kept here:
- One list of keywords, used by `make messages` and by the tests: `t("key")`, `N_("key")`
  for keys handed around in variables, `t.plural("key", "key.plural", n)` in Python and
  `tn("key", "key.plural", n)` in templates.
- Updating never guesses: no fuzzy matching (a new key is empty in both .po files until someone
  writes its texts, and the tests fail until then), translators' comments and texts are kept,
  and an entry no code asks for any more becomes obsolete (`#~`), not lost.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "src" / "kontingent" / "i18n" / "locale"
TEMPLATE = ROOT / "src" / "kontingent" / "i18n" / "messages.pot"
LANGUAGES = ("de", "en")
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "t": None,
    "N_": None,
    "plural": (1, 2),
    "tn": (1, 2),
}
WIDTH = 100


def extract() -> Catalog:
    """The template catalogue: every key the code and the templates ask for, with where."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    catalog = Catalog(project="kontingent", charset="utf-8", fuzzy=False)
    found = extract_from_dir(
        ROOT,
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def keys(catalog: Catalog) -> Iterator[str | tuple[str, str]]:
    for message in catalog:
        if message.id:
            yield message.id if isinstance(message.id, str) else (message.id[0], message.id[1])


def po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "messages.po"


def _entries(catalog: Catalog) -> list[tuple[object, ...]]:
    return [(m.id, sorted({f for f, _ in m.locations}), m.auto_comments) for m in catalog if m.id]


def update(template: Catalog) -> None:
    """Write the template and update the .po files; dates change only with the keys, so a
    run that finds nothing new leaves every file as it was."""
    if TEMPLATE.exists():
        with TEMPLATE.open("rb") as f:
            if _entries(read_po(f)) == _entries(template):
                return
    with TEMPLATE.open("wb") as f:
        write_po(f, template, width=WIDTH, include_lineno=False)
    for lang in LANGUAGES:
        with po_path(lang).open("rb") as f:
            catalog = read_po(f, locale=lang)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        with po_path(lang).open("wb") as f:
            write_po(f, catalog, width=WIDTH, include_lineno=False)


def check(template: Catalog) -> list[str]:
    """Keys used but without a text in a language, and texts no code asks for."""
    wanted = set(keys(template))
    problems = []
    for lang in LANGUAGES:
        with po_path(lang).open("rb") as f:
            catalog = read_po(f, locale=lang)
        held = {k for k in keys(catalog)}
        problems += [f"{lang}: no text for {k}" for k in sorted(wanted - held, key=str)]
        problems += [f"{lang}: no code asks for {k}" for k in sorted(held - wanted, key=str)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report only, change nothing")
    args = parser.parse_args(argv)
    template = extract()
    if args.check:
        problems = check(template)
        print("\n".join(problems) or "every key has an entry in de and en")
        return 1 if problems else 0
    update(template)
    print(f"{len(template)} keys; updated {', '.join(LANGUAGES)} (empty msgstr: still to write)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
