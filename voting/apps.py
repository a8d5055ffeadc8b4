from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotingConfig(AppConfig):
    name = "voting"
    label = "voting"
    verbose_name = _("Votes and resolutions")

    def ready(self) -> None:
        from voting import live  # noqa: F401  (registers WebSocket handlers)
        from agora.audit import KIND_LABELS

        KIND_LABELS.setdefault("motion.tie_drawn", _("Tie decided by a public draw"))
