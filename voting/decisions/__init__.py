"""Owners' decisions held over days (书面征求意见): the lifecycle, the decision chain, ballots
from every channel, and the pages of each (docs/decisions-over-days.md)."""
