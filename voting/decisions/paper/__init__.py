"""Paper ballots of an owners' decision (表决票): codes, the printed ballots, the issue/return
register and the clerks' entries (docs/decisions-over-days.md, "Paper ballots")."""
