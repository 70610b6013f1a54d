"""The ticket drawn: a real decoder (ZXing) reads the PNG and the SVG back to the ticket."""

from __future__ import annotations

import io
import re

import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from kontingent.booking.model import CODE_ALPHABET
from kontingent.checkin import drawing
from kontingent.checkin.model import read_ticket, sign_ticket
from tests.unit.properties import examples

SECRET = "s" * 40


def decoded(image: Image.Image) -> list[str]:
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [barcode.text for barcode in found]


def test_the_png_scans_back_to_the_ticket_and_its_code() -> None:
    ticket = sign_ticket(SECRET, "K7QM-3XPA-9RTD")
    image = Image.open(io.BytesIO(drawing.png(ticket)))
    assert image.size == (264, 264)  # 25 modules and 4 of quiet zone each side, 8 px each
    [text] = decoded(image)
    assert text == ticket and read_ticket(SECRET, text) == "K7QM-3XPA-9RTD"


@given(st.text(CODE_ALPHABET, min_size=12, max_size=12))
@examples(25)
def test_every_code_scans_back(raw: str) -> None:
    ticket = sign_ticket(SECRET, raw)
    assert decoded(Image.open(io.BytesIO(drawing.png(ticket)))) == [ticket]


def test_the_png_still_scans_when_shown_small_and_a_little_smudged() -> None:
    """A phone shows the e-mail's image smaller than its pixels, and a printout loses ink:
    shrunk to 2 px per module and with a patch of 4 x 4 modules wiped out, it still reads."""
    ticket = sign_ticket(SECRET, "K7QM-3XPA-9RTD")
    image = Image.open(io.BytesIO(drawing.png(ticket))).convert("L")
    image = image.resize((66, 66), Image.Resampling.BILINEAR)
    image.paste(255, (2 * 16, 2 * 12, 2 * 20, 2 * 16))
    assert decoded(image) == [ticket]


def test_the_svg_is_sized_by_the_page_and_draws_the_same_modules_as_the_png() -> None:
    ticket = sign_ticket(SECRET, "K7QM-3XPA-9RTD")
    svg = drawing.svg(ticket)
    assert svg.startswith('<svg viewBox="0 0 33 33" class="qr-code"')
    assert "width=" not in svg.split(">")[0] and "<?xml" not in svg
    assert decoded(_raster(svg)) == [ticket]


def _raster(svg: str) -> Image.Image:
    """segno's SVG draws each row's dark runs as a path of horizontal strokes ("h7m3 0h1"):
    paint them at 8 px per module, so a decoder reads what the page shows."""
    image = Image.new("L", (33 * 8, 33 * 8), 255)
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg)
    assert path is not None
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", path.group(1)):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            image.paste(
                0,
                (
                    round(x * 8),
                    round((y - 0.5) * 8),
                    round((x + float(a)) * 8),
                    round((y + 0.5) * 8),
                ),
            )
            x += float(a)
    return image
