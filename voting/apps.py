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
        from sessions.panels import Panel, panel_register
        from voting import live  # noqa: F401  (registers WebSocket handlers)
        from voting.announce import open_tally_events, open_vote_events
        from voting.decisions.pages.panels import decisions_panel
        from voting.decisions.progress import announce as decision_progress
        from voting.panels import motions_close_open, motions_open_count, screen_result_event, votes_panel

        sources.provide(
            open_tallies=open_tally_events,
            open_votes=open_vote_events,
            votes_count=motions_open_count,
            votes_close=motions_close_open,
            screen_result=screen_result_event,
        )
        panel_register(Panel(name="votes", order=40, template="voting/partials/_session_motions.html", build=votes_panel))
        panel_register(Panel(name="decisions", order=45, template="voting/decisions/pages/_room_panel.html", build=decisions_panel))

        KIND_LABELS.setdefault("motion.tie_drawn", _("Tie decided by a public draw"))
        KIND_LABELS.setdefault("decision.corrected", _("Decision result corrected after a recount"))
        decision_progress.connect()  # the progress page's live frames (voting/decisions/progress/announce.py)
