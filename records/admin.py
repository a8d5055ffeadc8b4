from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from agora.roster.admin_scoping import ReadOnlyForModerators
from records.models import (
    ActionItem,
    ActionUpdate,
    ChainHead,
    MinutesRecord,
    Need,
    NeedSupport,
    SatisfactionRating,
)


class ReadOnlyAdmin(ReadOnlyForModerators):
    """Published minutes and their chain are never edited, not even here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MinutesRecord)
class MinutesRecordAdmin(ReadOnlyAdmin):
    list_display = ["title", "community", "seq", "kind", "visibility", "held_on", "content_hash"]
    list_filter = [("community", admin.RelatedOnlyFieldListFilter), "kind", "visibility", "category", "outcome"]
    search_fields = ["title", "content_hash"]
    exclude = ["canonical"]


@admin.register(ChainHead)
class ChainHeadAdmin(ReadOnlyAdmin):
    list_display = ["community", "length", "head_hash", "updated_at"]


class ActionUpdateInline(admin.TabularInline):
    model = ActionUpdate
    extra = 0
    readonly_fields = ["by", "text", "status_from", "status_to", "at"]


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyForModerators):
    community_path = "session__community"
    list_display = ["what", "session", "responsible", "owner", "due_on", "status"]
    list_filter = ["status"]
    inlines = [ActionUpdateInline]
    readonly_fields = ["status", "done_at", "drop_reason"]  # status moves only through the service


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(ReadOnlyAdmin):
    community_path = "item__session__community"
    list_display = ["item", "user", "score", "updated_at"]


@admin.register(Need)
class NeedAdmin(ReadOnlyForModerators):
    list_display = ["text", "community", "category", "status", "created_at"]
    list_filter = [("community", admin.RelatedOnlyFieldListFilter), "status", "category"]


@admin.register(NeedSupport)
class NeedSupportAdmin(ReadOnlyAdmin):
    community_path = "need__community"
    list_display = ["need", "user", "created_at"]
