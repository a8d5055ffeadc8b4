from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotingConfig(AppConfig):
    name = "voting"
    label = "voting"
    verbose_name = _("Votes and resolutions")

    def ready(self) -> None:
        from agora.roster.audit import KIND_LABELS
        from sessions.live import sources
        from voting import live  # noqa: F401  (registers WebSocket handlers)
        from voting.announce import open_tally_events, open_vote_events

        sources.provide(open_tallies=open_tally_events, open_votes=open_vote_events)

        KIND_LABELS.setdefault("motion.tie_drawn", _("Tie decided by a public draw"))
