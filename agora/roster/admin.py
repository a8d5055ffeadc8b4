from __future__ import annotations

from django.contrib import admin

from agora.roster.admin_scoping import CommunityScopedAdmin
from agora.roster.models import (
    Building,
    Community,
    Grid,
    Household,
    Membership,
    Resident,
    Tag,
)

ONLY_MINE = admin.RelatedOnlyFieldListFilter  # a moderator's filter lists only their communities


@admin.register(Community)
class CommunityAdmin(CommunityScopedAdmin):
    community_path = "pk"
    moderators_may_add = False  # communities are created by the district
    list_display = ("name", "slug", "district")
    search_fields = ("name", "slug")


@admin.register(Grid)
class GridAdmin(CommunityScopedAdmin):
    list_display = ("name", "community")
    list_filter = (("community", ONLY_MINE),)


@admin.register(Building)
class BuildingAdmin(CommunityScopedAdmin):
    list_display = ("name", "community", "grid")
    list_filter = (("community", ONLY_MINE),)


@admin.register(Household)
class HouseholdAdmin(CommunityScopedAdmin):
    community_path = "building__community"
    list_display = ("__str__", "building", "unit", "room", "exclusive_area", "owner_key")
    list_filter = (("building__community", ONLY_MINE),)
    search_fields = ("room", "owner_key", "building__name")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_zh", "name_en")


@admin.register(Membership)
class MembershipAdmin(CommunityScopedAdmin):
    list_display = ("user", "community", "role", "title")
    list_filter = ("role", ("community", ONLY_MINE))
    search_fields = ("user__username", "user__first_name")


@admin.register(Resident)
class ResidentAdmin(CommunityScopedAdmin):
    list_display = ("user", "household", "community", "tenure", "verified")
    list_filter = (("community", ONLY_MINE), "tenure", "verified", "tags")
    search_fields = ("user__username", "user__first_name", "household__room")
    filter_horizontal = ("tags",)
