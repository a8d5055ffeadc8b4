from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgoraConfig(AppConfig):
    name = "agora.roster"
    label = "agora"
    verbose_name = _("Community roster")

    def ready(self) -> None:
        from agora.roster import accounts, changes  # noqa: F401 (changes: its signal receivers)

        accounts.connect_axes_signals()
