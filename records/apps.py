from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MinutesConfig(AppConfig):
    name = "records"
    label = "minutes"
    verbose_name = _("Minutes and follow-up")
    default_auto_field = "django.db.models.BigAutoField"
