from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MinutesConfig(AppConfig):
    name = "records"
    label = "minutes"
    verbose_name = _("Minutes and follow-up")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from records.panels import minutes_console_facts, minutes_panel
        from sessions.live import sources
        from sessions.panels import Panel, panel_register

        sources.provide(console_facts=minutes_console_facts)
        panel_register(Panel(name="minutes", order=50, template="minutes/partials/_session_minutes.html", build=minutes_panel))
