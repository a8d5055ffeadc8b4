"""Pure counting rules for votes (表决): plain functions over frozen dataclasses, no Django.

See docs/voting.md for every rule with a worked example.
"""

from __future__ import annotations

from .approval import approval_tally
from .approve_reject import approve_reject_tally
from .art278 import Art278Condition, Art278Result, Art278Tally, Art278Unit, art278_tally
from .plurality import plurality_tally
from .ranked import ranked_tally
from .types import (
    ApprovalBallot,
    ApproveRejectBallot,
    ApproveRejectResult,
    Base,
    Choice,
    ChoiceResult,
    OptionCount,
    Outcome,
    Participation,
    PluralityBallot,
    RankedBallot,
    RankedResult,
    RankedRound,
    Reason,
    Threshold,
    TieBreak,
    Weight,
    exact,
)

__all__ = [
    "ApprovalBallot",
    "ApproveRejectBallot",
    "ApproveRejectResult",
    "Art278Condition",
    "Art278Result",
    "Art278Tally",
    "Art278Unit",
    "Base",
    "Choice",
    "ChoiceResult",
    "OptionCount",
    "Outcome",
    "Participation",
    "PluralityBallot",
    "RankedBallot",
    "RankedResult",
    "RankedRound",
    "Reason",
    "Threshold",
    "TieBreak",
    "Weight",
    "approval_tally",
    "approve_reject_tally",
    "art278_tally",
    "exact",
    "plurality_tally",
    "ranked_tally",
]
