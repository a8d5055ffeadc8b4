"""Geometry for the server-rendered SVG bar chart (the markup is templates/voting/partials/_chart.html).

The chart is drawn in a 600-unit-wide viewBox and scales to its container, so it stays
readable on a phone, a projector and in elder mode. No inline styles (the CSP forbids them):
sizes are SVG attributes and colours come from static/css/voting.css classes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

WIDTH = 600
# Room for elder mode's 40-unit labels: a row holds a label line and a value line whose font boxes
# (about 1.15 em each) neither touch each other, the bar, nor the next row's label.
ROW = 96
BAR_HEIGHT = 34
LABEL_BASELINE = 36
BAR_TOP = 48
VALUE_ROOM = 170  # room on the right of the longest bar for its number


@dataclass(frozen=True)
class ChartBar:
    code: str
    label: str
    value: str  # already formatted (exact count or weight)
    extra: str  # e.g. "online 3 · in person 1"
    label_y: int
    bar_y: int
    bar_width: int
    value_x: int
    value_y: int
    highlight: bool


def bar_chart(
    rows: list[dict[str, Any]], *, value_key: str = "total", share_key: str | None = None, highlight: list[int] | None = None
) -> dict[str, Any]:
    """``rows``: dicts with id, code, label and the value; bars are proportional to the value
    (or to ``share_key``, an exact number as text such as "7/2"), longest = full width."""
    # Geometry only: the exact numbers are printed, the bar lengths may round.
    numbers = [float(Fraction(str(row.get(share_key or value_key) or 0))) for row in rows]
    top = max(numbers, default=0.0)
    usable = WIDTH - VALUE_ROOM
    bars = []
    for index, (row, number) in enumerate(zip(rows, numbers, strict=True)):
        y = index * ROW
        width = round(usable * number / top) if top else 0
        bars.append(
            ChartBar(
                code=row.get("code", ""),
                label=row.get("label", ""),
                value=str(row.get(value_key, "")),
                extra=str(row.get("extra", "")),
                label_y=y + LABEL_BASELINE,
                bar_y=y + BAR_TOP,
                bar_width=max(width, 2),
                value_x=max(width, 2) + 10,
                value_y=y + BAR_TOP + BAR_HEIGHT,  # on the bar's bottom line: clear of the label above
                highlight=bool(highlight and row.get("id") in highlight),
            )
        )
    return {"width": WIDTH, "height": max(len(rows), 1) * ROW, "bar_height": BAR_HEIGHT, "bars": [asdict(b) for b in bars]}
