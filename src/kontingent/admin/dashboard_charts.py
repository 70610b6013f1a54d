"""The dashboard's charts: SVG drawn on the server by leather.

leather (wireservice, MIT, pure Python, no dependencies) writes plain SVG with presentation
attributes only: no script and no <style> in it. pygal was tried first and dropped: importing
it adds a legacy import hook to `sys.meta_path` that makes every later failed import warn.

Invariants kept here:
- Charts are images (`data:` URIs, which the pages' Content-Security-Policy allows for
  images): no script runs for them, and the pages stay readable without one. Each image's
  figures are also in a table beside it, which is what screen readers read.
- No data, no chart line made up: an empty series is drawn as zeros along the axis.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence

import leather

from kontingent.admin.dashboard_model import CHANNELS, FreePairs, Minute

# Dark enough on white for the contrast a chart needs (WCAG 1.4.11: 3:1 and more).
COLOURS = {"web": "#1f4e9c", "phone": "#b3470f", "on_site": "#2f7d32"}
BAR = "#1f4e9c"
INK = "#1a1a1a"
FONT = "system-ui, sans-serif"


def _themed() -> None:
    """leather's look is module-wide: the same values on every call, so setting them again
    changes nothing for charts drawn meanwhile."""
    t = leather.theme
    t.background_color = "#ffffff"
    t.title_color = t.legend_color = t.axis_title_color = t.label_color = INK
    t.title_font_family = t.legend_font_family = FONT
    t.axis_title_font_family = t.tick_font_family = FONT
    t.tick_color = "#d0d0d0"
    t.zero_color = "#505050"


def _uri(chart: leather.Chart, width: int, height: int) -> str:
    svg = chart.to_svg(width=width, height=height)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def bookings_chart(minutes: Sequence[Minute], names: Mapping[str, str], axis: str) -> str:
    """Bookings per minute of the last hour, a line per channel named by `names` (x: minutes
    ago, titled `axis`)."""
    _themed()
    chart = leather.Chart()
    chart.add_x_axis(name=axis)
    n = len(minutes)
    chart.add_x_scale(-(n - 1), 0)
    top = max([1, *(c for m in minutes for c in m.counts.values())])
    chart.add_y_scale(0, top)
    for channel in CHANNELS:
        points = [(i - (n - 1), m.counts.get(channel, 0)) for i, m in enumerate(minutes)]
        chart.add_line(points, name=names[channel], stroke_color=COLOURS[channel], width=3)
    return _uri(chart, 900, 320)


def free_pairs_chart(free: Sequence[FreePairs]) -> str:
    """Free pairs per centre, all vaccines together, a bar each."""
    _themed()
    totals: dict[str, int] = {}
    for f in free:
        totals[f.centre] = totals.get(f.centre, 0) + f.pairs
    chart = leather.Chart()
    chart.add_x_scale(0, max([1, *totals.values()]))
    chart.add_bars([(n, name) for name, n in sorted(totals.items())], fill_color=BAR)
    return _uri(chart, 900, max(240, 24 * len(totals) + 80))
