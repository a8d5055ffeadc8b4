from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TopicSessionsConfig(AppConfig):
    # django.contrib.sessions already owns the label "sessions".
    name = "sessions"
    label = "topic_sessions"
    verbose_name = _("Topic sessions")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from agora.roster.audit import KIND_LABELS
        from agora.roster.audit_details import DETAIL_VALUES
        from sessions.live import (
            handlers,  # noqa: F401  (registers WebSocket handlers)
            sources,
        )
        from sessions.meeting import handlers as meeting_handlers  # noqa: F401  (hand.raise, floor.give …)
        from sessions.meeting.attendance import attendance_online_mark
        from sessions.meeting.rooms import room_for_published_session
        from sessions.models import SessionState, TopicSession

        sources.provide(on_connect=attendance_online_mark)
        KIND_LABELS.setdefault("session.adjourn_undone", _("Adjourning undone"))
        # The security log names a session's states in the reader's language (原状态：草稿).
        DETAIL_VALUES["from_state"] = DETAIL_VALUES["to_state"] = dict(SessionState.choices)
        # The meeting room (join code, projector link) is made when a session leaves draft.
        post_save.connect(room_for_published_session, sender=TopicSession, dispatch_uid="meeting-room-on-publish")
