"""The door ticket drawn as a QR code: SVG for the pages, PNG for the e-mail (segno).

Invariants kept here:
- Dark modules on a white ground with the quiet zone of 4 modules the standard asks for, in
  the SVG and in the PNG alike, so that a scanner finds the code on a dark-mode screen and on
  paper.
- Error correction M (15 % of the symbol may be lost): a ticket's 35 characters then fit a
  version-2 symbol; segno raises the level by itself only where that keeps the size.
- The SVG has no width or height of its own: the page's stylesheet sizes it, and it stays
  sharp at any size and in print. The PNG has 8 pixels per module (264 x 264 pixels):
  e-mail clients show images at their pixel size and scale them smoothly, which would blur a
  smaller image's edges.
- Drawing costs CPU (pure Python): a PNG took 5 ms (about 3 to encode, where segno tries the
  eight masks the standard defines and keeps the one easiest to read, and 2 to write) and an
  SVG 3.5 ms on the 2-core development machine, 9-13 ms and 8-9 ms when it ran at a load
  average of 14 (`python -m timeit -s "from kontingent.checkin import drawing"
  "drawing.png('KT1:K7QM-3XPA-9RTD:JFF2DJKVEUK46EJR')"`). So the e-mail's PNG is drawn by
  the relay as it sends, never on the booking's request, and only the two pages that show
  the code draw an SVG.
"""

from __future__ import annotations

import io

import segno

_ERROR = "m"
_BORDER = 4  # modules of quiet zone (ISO/IEC 18004)
PNG_SCALE = 8


def _symbol(ticket: str) -> segno.QRCode:
    return segno.make_qr(ticket, error=_ERROR)


def svg(ticket: str) -> str:
    """The code as an inline `<svg>` element (no XML declaration, no size: CSS sizes it)."""
    return str(
        _symbol(ticket).svg_inline(
            border=_BORDER, omitsize=True, dark="#000", light="#fff", svgclass="qr-code"
        )
    )


def png(ticket: str) -> bytes:
    """The code as a PNG, `PNG_SCALE` pixels per module."""
    out = io.BytesIO()
    _symbol(ticket).save(
        out, kind="png", scale=PNG_SCALE, border=_BORDER, dark="#000", light="#fff"
    )
    return out.getvalue()
