from __future__ import annotations

from django.contrib import admin

from agora.roster.admin_scoping import ReadOnlyForModerators
from sessions.models import AgendaItem, Message, SessionTransition, TopicSession


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    extra = 0


@admin.register(TopicSession)
class TopicSessionAdmin(ReadOnlyForModerators):
    list_display = ("title", "community", "category", "state", "starts_at")
    list_filter = ("state", "category", ("community", admin.RelatedOnlyFieldListFilter))
    search_fields = ("title",)
    inlines = [AgendaItemInline]
    filter_horizontal = ("audience_tags", "observers")
    readonly_fields = ("state", "last_seq")


@admin.register(SessionTransition)
class SessionTransitionAdmin(ReadOnlyForModerators):
    community_path = "session__community"
    list_display = ("session", "from_state", "to_state", "by", "at")
    readonly_fields = ("session", "from_state", "to_state", "by", "at")


@admin.register(Message)
class MessageAdmin(ReadOnlyForModerators):
    community_path = "session__community"
    list_display = ("session", "seq", "author", "created_at", "hidden", "pinned")
    list_filter = ("hidden", "pinned")
    readonly_fields = ("session", "seq", "author", "text_html", "created_at")
