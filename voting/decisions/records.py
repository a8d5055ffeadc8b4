"""Who voted for whom, as the published result shows it (names for members only): read from the
counted votes, at the lifecycle's layer so that every feature page can show it."""

from __future__ import annotations

from typing import Any

from agora.roster.names import display_name
from voting.models import Channel, Decision, DecisionVote, ProxyKind, VoteState
from voting.units import decision_units


def proxy_votes(decision: Decision) -> list[dict[str, Any]]:
    """Each counted vote cast by a proxy holder, guardian or legal representative: the unit
    (building-unit-room), who voted for it ("由 X 代为表决") and on what paper, in roster order."""
    votes = list(
        DecisionVote.objects.filter(decision=decision, state=VoteState.COUNTED, channel=Channel.PROXY, proxy__isnull=False)
        .select_related("proxy__holder")
        .order_by("at", "pk")
    )
    if not votes:
        return []
    labels = {u.unit_key: u.label for u in decision_units(decision, owners=False)}
    order = {key: i for i, key in enumerate(labels)}
    rows: list[dict[str, Any]] = []
    for vote in votes:
        proxy = vote.proxy
        assert proxy is not None
        rows.append(
            {
                "unit_key": vote.unit_key,
                "unit": labels.get(vote.unit_key, ""),
                "holder": display_name(proxy.holder),
                "kind": proxy.kind,
                "kind_label": ProxyKind(proxy.kind).label,
            }
        )
    rows.sort(key=lambda r: order.get(str(r["unit_key"]), len(order)))
    return rows
