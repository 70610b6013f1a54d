"""Reading a booking code aloud: each symbol with the word that makes it unmistakable on
the phone.

Invariants kept here:
- German follows DIN 5009:2022 (the table of city names, "A wie Aachen"; the 1950 table of
  first names, "A wie Anton", is withdrawn). Its umlauts are "Umlaut Aachen", "Umlaut
  Offenbach", "Umlaut Unna" and ß is "Eszett"; the 2022 table has no words for "Ch" or
  "Sch", so those are spelled letter by letter like any other.
- English follows the ICAO/NATO alphabet (Alfa, Bravo, ... Zulu) with the digits as plain
  words ("One", not the radio "Wun"): the listener is a caller, not a pilot.
- Every symbol of a booking code has a word in both languages; hyphens and spaces are
  grouping only and are left out; any other character is refused, never read wrongly.
- Pure: standard library only, no I/O. The words are the standards' own (data, not texts to
  translate); "wie" and "as in" around them are texts of the catalogues.
"""

from __future__ import annotations

from dataclasses import dataclass

DIN_5009_2022 = {
    "A": "Aachen", "Ä": "Umlaut Aachen", "B": "Berlin", "C": "Chemnitz",
    "D": "Düsseldorf", "E": "Essen", "F": "Frankfurt", "G": "Goslar", "H": "Hamburg",
    "I": "Ingelheim", "J": "Jena", "K": "Köln", "L": "Leipzig", "M": "München",
    "N": "Nürnberg", "O": "Offenbach", "Ö": "Umlaut Offenbach", "P": "Potsdam",
    "Q": "Quickborn", "R": "Rostock", "S": "Salzwedel", "ß": "Eszett", "T": "Tübingen",
    "U": "Unna", "Ü": "Umlaut Unna", "V": "Völklingen", "W": "Wuppertal", "X": "Xanten",
    "Y": "Ypsilon", "Z": "Zwickau",
    "0": "Null", "1": "Eins", "2": "Zwei", "3": "Drei", "4": "Vier", "5": "Fünf",
    "6": "Sechs", "7": "Sieben", "8": "Acht", "9": "Neun",
}  # fmt: skip
ICAO = {
    "A": "Alfa", "B": "Bravo", "C": "Charlie", "D": "Delta", "E": "Echo", "F": "Foxtrot",
    "G": "Golf", "H": "Hotel", "I": "India", "J": "Juliett", "K": "Kilo", "L": "Lima",
    "M": "Mike", "N": "November", "O": "Oscar", "P": "Papa", "Q": "Quebec", "R": "Romeo",
    "S": "Sierra", "T": "Tango", "U": "Uniform", "V": "Victor", "W": "Whiskey",
    "X": "X-ray", "Y": "Yankee", "Z": "Zulu",
    "0": "Zero", "1": "One", "2": "Two", "3": "Three", "4": "Four", "5": "Five",
    "6": "Six", "7": "Seven", "8": "Eight", "9": "Nine",
}  # fmt: skip
ALPHABETS = {"de": DIN_5009_2022, "en": ICAO}
GROUPING = frozenset("- ")


@dataclass(frozen=True, slots=True)
class Spelled:
    symbol: str
    word: str
    group: int  # which group of the code (0, 1, 2): the page leaves room between groups


def spell(code: str, lang: str) -> list[Spelled]:
    """`code` symbol by symbol with its word in `lang`'s spelling alphabet; ValueError for a
    character the alphabet has no word for. A run of hyphens or spaces starts a new group."""
    table = ALPHABETS[lang]
    spelled: list[Spelled] = []
    group, gap = 0, False
    for ch in code:
        if ch in GROUPING:
            gap = bool(spelled)
            continue
        symbol = ch if ch == "ß" else ch.upper()
        if symbol not in table:
            raise ValueError(f"no spelling word for {ch!r} in {lang}")
        group += 1 if gap else 0
        gap = False
        spelled.append(Spelled(symbol, table[symbol], group))
    return spelled
