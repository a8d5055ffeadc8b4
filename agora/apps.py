from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgoraConfig(AppConfig):
    name = "agora"
    label = "agora"
    verbose_name = _("Community roster")

    def ready(self) -> None:
        from agora import accounts, roster_audit  # noqa: F401 (roster_audit: its signal receivers)

        accounts.connect_axes_signals()
