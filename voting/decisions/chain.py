"""The community's decision chain: every step of every decision sealed in order
(agora/infra/hashchain.py, the design of the minutes' chain, body key ``decision_step``).

A step is sealed in the transaction that takes it, after the community's row is locked, so two
steps of one community never take the same place. ``chain_verify`` walks a community's chain
and names the first step that is wrong.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from agora.infra import hashchain
from agora.infra.isotime import iso_utc
from agora.roster.models import Community
from voting.models import Decision, DecisionStep

BODY_KEY = "decision_step"


def step_seal(*, decision: Decision, kind: str, body: dict[str, Any], by: User | None, at: datetime) -> DecisionStep:
    """Seal one step (inside the caller's transaction). ``body`` holds exact values only:
    integers and strings (decimals as strings), no floats."""
    assert transaction.get_connection().in_atomic_block, "a step is sealed in the transaction that takes it"
    community = Community.objects.select_for_update().get(pk=decision.community_id)
    last = DecisionStep.objects.filter(community=community).order_by("-seq").first()
    seq = (last.seq + 1) if last else 1
    prev_hash = last.content_hash if last else hashchain.GENESIS
    step = DecisionStep(community=community, decision=decision, kind=kind, seq=seq, prev_hash=prev_hash, by=by, at=at)
    # The row id is inside the sealed bytes (the permalink): take it first, then seal.
    step.content_hash = f"pending-{decision.pk}-{seq}"
    step.canonical = ""
    step.save()
    full = {"decision": decision.pk, "kind": kind, "at": iso_utc(at), "by": by.pk if by else None, **body}
    step.canonical, step.content_hash = hashchain.seal(
        community=community.slug, record_id=step.pk, seq=seq, prev_hash=prev_hash, minutes=full, key=BODY_KEY
    )
    step.save(update_fields=["canonical", "content_hash"])
    return step


def step_body(step: DecisionStep) -> dict[str, Any]:
    """What a sealed step says (read back from its sealed bytes, never from other columns)."""
    import json

    body: dict[str, Any] = json.loads(step.canonical)[BODY_KEY]
    return body


def chain_verify(*, community: Community) -> hashchain.Verdict:
    steps = DecisionStep.objects.filter(community=community).order_by("seq", "pk")
    records = [hashchain.StoredRecord(s.pk, s.seq, s.prev_hash, s.content_hash, s.canonical) for s in steps]
    return hashchain.verify(community=community.slug, records=records, head_hash=None, head_count=None)
