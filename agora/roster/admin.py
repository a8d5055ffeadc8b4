from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from agora.roster.admin_scoping import CommunityScopedAdmin
from agora.roster.models import (
    Building,
    Community,
    Grid,
    Household,
    Membership,
    Resident,
    Role,
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


class MembershipForm(forms.ModelForm):
    """A grid worker's grids (网格员: their buildings for door to door) are grids of the
    membership's own community; other roles have none."""

    class Meta:
        model = Membership
        fields = ("user", "community", "role", "title", "grids")

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        grids = data.get("grids")
        community, role = data.get("community"), data.get("role")
        if grids and role != Role.GRID_WORKER:
            self.add_error("grids", _("Only a grid worker has grids."))
        elif grids and community is not None and any(g.community_id != community.pk for g in grids):
            self.add_error("grids", _("A grid worker's grids must be grids of the same community."))
        return data


@admin.register(Membership)
class MembershipAdmin(CommunityScopedAdmin):
    form = MembershipForm
    list_display = ("user", "community", "role", "title", "grid_names")
    list_filter = ("role", ("community", ONLY_MINE))
    search_fields = ("user__username", "user__first_name")
    filter_horizontal = ("grids",)

    @admin.display(description=_("grids"))
    def grid_names(self, obj: Membership) -> str:
        return "、".join(g.name for g in obj.grids.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).prefetch_related("grids")


@admin.register(Resident)
class ResidentAdmin(CommunityScopedAdmin):
    list_display = ("user", "household", "community", "tenure", "verified")
    list_filter = (("community", ONLY_MINE), "tenure", "verified", "tags")
    search_fields = ("user__username", "user__first_name", "household__room")
    filter_horizontal = ("tags",)
