"""Fetch a decision for its progress and results pages, and check who may see it (the rules are
voting/decisions/rules.py): what the person may not see is a 404, never a hint that it exists."""

from __future__ import annotations

from django.http import Http404

from agora.roster.roles import AnyUser
from voting.decisions.rules import DecisionFacts, decision_facts, reads
from voting.models import Decision


def access_decision(user: AnyUser, decision_id: int) -> tuple[Decision, DecisionFacts]:
    decision = Decision.objects.filter(pk=decision_id).first()
    if decision is None:
        raise Http404
    facts = decision_facts(user=user, decision=decision)
    if not reads(facts, decision):
        raise Http404
    return decision, facts


def progress_admission(*, user: AnyUser, decision_id: int) -> DecisionFacts | None:
    """The live connect's answer: the reader's facts, or None (refused)."""
    try:
        return access_decision(user, decision_id)[1]
    except Http404:
        return None
