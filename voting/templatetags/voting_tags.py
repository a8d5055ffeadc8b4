"""Template helpers for votes: labels in the reader's language, the chart (none reads the database;
the session page's votes are built by voting/panels.py)."""

from __future__ import annotations

from typing import Any

from django import template

from voting import charts
from voting.choices import option_label
from voting.models import (
    BallotUnit,
    Base,
    Eligibility,
    MotionKind,
    MotionState,
    Outcome,
    Threshold,
    WeightMode,
)

register = template.Library()

LABELS: dict[str, dict[str, Any]] = {
    "kind": dict(MotionKind.choices),
    "state": dict(MotionState.choices),
    "outcome": dict(Outcome.choices),
    "base": dict(Base.choices),
    "threshold": dict(Threshold.choices),
    "eligibility": dict(Eligibility.choices),
    "ballot_unit": dict(BallotUnit.choices),
    "weight_mode": dict(WeightMode.choices),
}


register.filter(option_label)


@register.filter
def vote_label(code: str, field: str) -> Any:
    return LABELS.get(field, {}).get(code, code)


@register.filter
def option_by_id(options: list[dict[str, Any]], option_id: int) -> dict[str, Any]:
    return next((o for o in options if o["id"] == option_id), {"label": "?", "code": ""})


@register.filter
def with_rounds(result: dict[str, Any], rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The result with other instant-runoff rounds (a ranked count redone by a public draw)."""
    return {**result, "rounds": rounds}


@register.simple_tag
def chart_for(rows: list[dict[str, Any]], value_key: str = "total", share_key: str = "", highlight: Any = None) -> dict[str, Any]:
    labelled = [{**row, "label": str(option_label(row))} for row in rows]
    marks = highlight if isinstance(highlight, list) else ([highlight] if highlight else None)
    return charts.bar_chart(labelled, value_key=value_key, share_key=share_key or None, highlight=marks)
