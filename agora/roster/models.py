"""The community roster: who lives where, and who may do what in which community."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from agora.roster.names import display_name


class Community(models.Model):
    slug = models.SlugField(_("short name"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    district = models.CharField(_("district / street"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Grid(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="grids")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="grid_unique_name")]

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="buildings")
    grid = models.ForeignKey(Grid, on_delete=models.SET_NULL, null=True, blank=True, related_name="buildings")
    name = models.CharField(_("building"), max_length=50)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["community", "name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="building_unique_name")]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    """A dwelling (户): building / unit / room.

    ``exclusive_area`` is the owner's exclusive floor area (专有部分面积) in m².
    ``owner_key`` identifies the owner in the roster, so that units held by the same
    owner count once by headcount under Civil Code Art. 278.
    """

    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="households")
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    room = models.CharField(_("room"), max_length=20)
    exclusive_area = models.DecimalField(
        _("exclusive floor area (m²)"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    owner_key = models.CharField(_("owner reference"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["building__name", "unit", "room"]
        constraints = [
            models.UniqueConstraint(fields=["building", "unit", "room"], name="household_unique_address"),
            models.CheckConstraint(
                condition=models.Q(exclusive_area__isnull=True) | models.Q(exclusive_area__gte=0),
                name="household_area_not_negative",
            ),
        ]

    def __str__(self) -> str:
        parts = [self.building.name, self.unit, self.room]
        return "-".join(p for p in parts if p)

    @property
    def community_id(self) -> int:
        return self.building.community_id


class Tag(models.Model):
    """A label that selects a session's audience (车主 car owner, 租户 renter …)."""

    slug = models.SlugField(unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=30)
    name_en = models.CharField(_("name (English)"), max_length=30)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name_zh

    def label(self, language: str | None) -> str:
        return self.name_en if (language or "").startswith("en") else self.name_zh


class Role(models.TextChoices):
    MODERATOR = "moderator", _("Moderator")
    OBSERVER = "observer", _("Observer")
    RESIDENT = "resident", _("Resident")
    # 网格员: goes door to door for owners' decisions, in the buildings of their grids.
    GRID_WORKER = "grid_worker", _("Grid worker")


class Membership(models.Model):
    """A user's role in one community. A moderator sees and changes only their own."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    title = models.CharField(_("title"), max_length=60, blank=True, help_text=_("e.g. Party secretary, property company"))
    # A grid worker's area: these grids' buildings (empty: none).
    grids = models.ManyToManyField(Grid, blank=True, related_name="workers", verbose_name=_("grids"))

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "community"], name="membership_one_role_per_community")]

    def __str__(self) -> str:
        return f"{self.user} · {self.community} · {self.get_role_display()}"


class Tenure(models.TextChoices):
    OWNER = "owner", _("Owner")
    TENANT = "tenant", _("Tenant")


class Resident(models.Model):
    """A person registered in a household (居民): owner (业主) or tenant (租户)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="residencies")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="residents")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="residents")
    tenure = models.CharField(_("tenure"), max_length=10, choices=Tenure.choices)
    tags = models.ManyToManyField(Tag, blank=True, related_name="residents", verbose_name=_("tags"))
    verified = models.BooleanField(_("verified"), default=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        constraints = [models.UniqueConstraint(fields=["user", "community"], name="resident_one_household_per_community")]

    def __str__(self) -> str:
        return f"{display_name(self.user)} ({self.household})"

    @property
    def is_owner(self) -> bool:
        return self.tenure == Tenure.OWNER


class DisplayPreference(models.Model):
    """Remembered per user: elder mode (适老化). Before login, a cookie keeps it per device."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="display_preference")
    elder_mode = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("display preference")
        verbose_name_plural = _("display preferences")


class AuditEvent(models.Model):
    """A security-relevant event: who did what, when, from where (docs/security.md).

    Moderators read their community's events; events with no community (a failed login for an
    unknown name) are for district admins.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=40, db_index=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")


class RosterUpload(models.Model):
    """An uploaded roster kept between its preview and its import (agora/roster/uploads.py): the
    moderator confirms without sending the file again. Found by the hash of a random token that
    only the uploader's page holds; removed after the import or when it expires."""

    token_hash = models.CharField(max_length=64, unique=True)
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200)
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)


class Invitation(models.Model):
    """A one-time login code printed on an invitation sheet (agora/roster/invitations.py).

    Only the code's keyed hash is stored. It works once, until ``expires_at``, unless revoked;
    printing a new sheet revokes the person's codes not yet used."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="invitations")
    code_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "used_at", "revoked_at"], name="invitation_open")]
