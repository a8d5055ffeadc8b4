"""Admin: read-mostly views for district staff. Ballots are never listed with voters."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from agora.roster.admin_scoping import ReadOnlyForModerators
from voting.models import InPersonCount, Motion, MotionOption, Resolution


class MotionOptionInline(admin.TabularInline):
    """Read-only for everyone: a motion's options are written with it (voting/services.py) and
    never change; the ballot path keeps them per process (voting/ballots.py)."""

    model = MotionOption
    extra = 0
    readonly_fields = ["position", "code", "label"]

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Motion)
class MotionAdmin(ReadOnlyForModerators):
    community_path = "session__community"
    list_display = ["text", "session", "kind", "state", "secret", "opened_at", "closed_at"]
    list_filter = ["kind", "state", "secret"]
    search_fields = ["text"]
    inlines = [MotionOptionInline]
    readonly_fields = ["state", "opened_at", "opened_by", "closed_at", "closed_by", "created_by"]


@admin.register(InPersonCount)
class InPersonCountAdmin(ReadOnlyForModerators):
    community_path = "motion__session__community"
    list_display = ["motion", "count", "household", "entered_by", "entered_at"]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Resolution)
class ResolutionAdmin(ReadOnlyForModerators):
    community_path = "motion__session__community"
    list_display = ["motion", "outcome", "created_at"]
    readonly_fields = ["motion", "outcome", "data", "receipt_hashes", "created_at"]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
