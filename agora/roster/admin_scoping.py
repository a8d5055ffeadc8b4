"""The admin for moderators: each sees and changes only their own communities.

District admins (superusers) keep Django's usual permissions over everything. A moderator who is
staff gets, without any model permission: the roster of the communities they moderate (view and
change, add and delete where it makes sense), and a read-only view of their communities' sessions,
votes, minutes and needs — those change only through the product's services, which check the rules
and write the audit log. Rows of other communities are not listed, not opened, not offered in a
choice list.

Every roster change made here is recorded with the moderator's name and address
(agora/roster/changes.py): the views that save run inside ``roster_changes_by``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse

from agora.roster.accounts import client_ip
from agora.roster.changes import roster_changes_by
from agora.roster.models import Building, Community, Grid, Household, Tag
from agora.roster.roles import moderated_communities


def scope_ids(request: HttpRequest) -> list[int]:
    """The communities this request's user moderates (cached on the request)."""
    cached = getattr(request, "_agora_moderated_ids", None)
    if cached is None:
        cached = [c.pk for c in moderated_communities(user=request.user)]
        request._agora_moderated_ids = cached  # type: ignore[attr-defined]
    return cached


def _is_district_admin(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


def _may_use_admin(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_staff and scope_ids(request))


def _choices(model: type[models.Model], ids: list[int]) -> QuerySet[Any] | None:
    """The rows of ``model`` a moderator of ``ids`` may pick in a form, or None if unscoped."""
    if model is Community:
        return Community.objects.filter(pk__in=ids)
    if model in (Grid, Building):
        return model._default_manager.filter(community__in=ids)
    if model is Household:
        return Household.objects.filter(building__community__in=ids)
    if model is Tag:
        return None  # tags are shared by the whole deployment
    if model is get_user_model():
        return model._default_manager.filter(Q(memberships__community__in=ids) | Q(residencies__community__in=ids)).distinct()
    return model._default_manager.none()  # a model not named here is never offered to a moderator


class CommunityScopedAdmin(admin.ModelAdmin):
    """``community_path``: the lookup from the model to its Community (``"community"``,
    ``"session__community"``, …). ``moderators_may_edit``: False for records that change only
    through services (sessions, votes, minutes)."""

    community_path = "community"
    moderators_may_edit = True
    moderators_may_add = True

    # The views that save: what they change is audited as done by this user, from this address.
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with roster_changes_by(actor=request.user, via="admin", ip_address=client_ip(request)):
            return super().changeform_view(request, *args, **kwargs)

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with roster_changes_by(actor=request.user, via="admin", ip_address=client_ip(request)):
            return super().changelist_view(request, *args, **kwargs)

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with roster_changes_by(actor=request.user, via="admin", ip_address=client_ip(request)):
            return super().delete_view(request, *args, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if _is_district_admin(request):
            return qs
        return qs.filter(**{f"{self.community_path}__in": scope_ids(request)}).distinct()

    def _in_scope(self, request: HttpRequest, obj: Any) -> bool:
        if obj is None:
            return True
        return self.model._default_manager.filter(pk=obj.pk, **{f"{self.community_path}__in": scope_ids(request)}).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) if _is_district_admin(request) else _may_use_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if _is_district_admin(request):
            return super().has_view_permission(request, obj)
        return _may_use_admin(request) and self._in_scope(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if _is_district_admin(request):
            return super().has_change_permission(request, obj)
        return self.moderators_may_edit and _may_use_admin(request) and self._in_scope(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if _is_district_admin(request):
            return super().has_delete_permission(request, obj)
        return self.moderators_may_edit and self.moderators_may_add and _may_use_admin(request) and self._in_scope(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        if _is_district_admin(request):
            return super().has_add_permission(request)
        return self.moderators_may_edit and self.moderators_may_add and _may_use_admin(request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not _is_district_admin(request):
            choices = _choices(db_field.related_model, scope_ids(request))
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not _is_district_admin(request):
            choices = _choices(db_field.related_model, scope_ids(request))
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReadOnlyForModerators(CommunityScopedAdmin):
    """Sessions, votes, minutes: moderators read them here and change them in the product."""

    moderators_may_edit = False
