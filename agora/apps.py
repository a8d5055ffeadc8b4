from __future__ import annotations

from django.apps import AppConfig


class AgoraProjectConfig(AppConfig):
    """The project itself as an app: its management commands (seed_demo, compile_translations), its
    template tags and the catalog of the project-wide strings in agora/locale. No models: the roster's
    tables belong to ``agora.roster``, which keeps the label ``agora``."""

    name = "agora"
    label = "agora_project"
    verbose_name = "Agora"
