"""Verifying a community's chain against the database (the pure walk is in chain.py)."""

from __future__ import annotations

import json

from agora.models import Community
from sessions.minutes import chain
from sessions.minutes.content import outcome_of
from sessions.minutes.models import ChainHead, MinutesRecord


def chain_verify(*, community: Community) -> chain.Verdict:
    """Walk the chain; then check that the browse columns still agree with the sealed content."""
    rows = list(
        MinutesRecord.objects.filter(community=community)
        .order_by("seq", "pk")
        .values_list("pk", "seq", "prev_hash", "content_hash", "canonical", "title", "category", "outcome", "visibility")
    )
    head = ChainHead.objects.filter(community=community).values_list("head_hash", "length").first()
    verdict = chain.verify(
        community=community.slug,
        records=[chain.StoredRecord(id=r[0], seq=r[1], prev_hash=r[2], content_hash=r[3], canonical=r[4]) for r in rows],
        head_hash=head[0] if head else None,
        head_count=head[1] if head else (0 if rows else None),
    )
    if not verdict.ok:
        return verdict
    for pk, seq, _prev, _hash, canonical, title, category, outcome, visibility in rows:
        content = json.loads(canonical)["minutes"]
        sealed = (content["session"]["title"], content["session"]["category"], outcome_of(content), content["visibility"])
        if sealed != (title, category, outcome, visibility):
            return chain.Verdict(False, "", verdict.count, chain.Problem("altered", pk, seq, "listing columns differ from the sealed content"))
    return verdict
