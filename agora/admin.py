from __future__ import annotations

from django.contrib import admin

from agora.models import Building, Community, Grid, Household, Membership, Resident, Tag


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "district")
    search_fields = ("name", "slug")


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ("name", "community")
    list_filter = ("community",)


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "grid")
    list_filter = ("community",)


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ("__str__", "building", "unit", "room", "exclusive_area", "owner_key")
    list_filter = ("building__community",)
    search_fields = ("room", "owner_key", "building__name")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_zh", "name_en")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "community", "role", "title")
    list_filter = ("role", "community")
    search_fields = ("user__username", "user__first_name")


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ("user", "household", "community", "tenure", "verified")
    list_filter = ("community", "tenure", "verified", "tags")
    search_fields = ("user__username", "user__first_name", "household__room")
    filter_horizontal = ("tags",)
