"""Every change of the facts a vote depends on is in the audit log: tenure, verification, household
membership (a resident added, moved or removed), a household's floor area and owner reference, and
a resident's tags — who, when, before, after, and by which path (admin, roster import, other).

The rows are written by model signals, inside the transaction of the change (a rolled-back change
leaves no row), whichever path made it. Who made it is set by the path: the admin and the roster
import run inside :func:`roster_changes_by`; anything else (a shell, a migration) is recorded
without an actor. ``agora.roster.audit.roster_changes_during`` reads them for a motion's result page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from agora.roster.audit import audit_record
from agora.roster.models import AuditEvent, Household, Resident


@dataclass(frozen=True)
class _Actor:
    user: Any
    via: str
    ip_address: str | None


_ACTOR: ContextVar[_Actor | None] = ContextVar("agora_roster_actor", default=None)


@contextmanager
def roster_changes_by(*, actor: Any, via: str, ip_address: str | None = None) -> Iterator[None]:
    """Roster changes made inside this block are recorded as made by ``actor`` through ``via``."""
    token = _ACTOR.set(_Actor(actor, via, ip_address))
    try:
        yield
    finally:
        _ACTOR.reset(token)


def _record(kind: str, community_id: int | None, **detail: Any) -> AuditEvent:
    actor = _ACTOR.get()
    return audit_record(
        kind=kind,
        community=community_id,
        actor=actor.user if actor else None,
        ip_address=actor.ip_address if actor else None,
        via=actor.via if actor else "other",
        **detail,
    )


def _surviving(community_id: int | None, origin: Any) -> int | None:
    """The community to file a deletion under: none when the community itself is being deleted
    (its events go with it; this row then stays for the district admins)."""
    from agora.roster.models import Community

    return None if isinstance(origin, Community) else community_id


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _address(household_id: int | None) -> str:
    if household_id is None:
        return ""
    household = Household.objects.select_related("building").filter(pk=household_id).first()
    return str(household) if household else ""


def _resident_name(resident: Resident) -> str:
    return str(resident.user.get_username())


# --- Households: floor area and owner reference ---------------------------------------------


@receiver(pre_save, sender=Household)
def _household_before(sender: Any, instance: Household, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    instance._agora_before = (  # type: ignore[attr-defined]
        Household.objects.filter(pk=instance.pk).values("exclusive_area", "owner_key").first() if instance.pk else None
    )


@receiver(post_save, sender=Household)
def _household_saved(sender: Any, instance: Household, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # loaddata: not a change made by anyone
    community_id = instance.building.community_id
    before = getattr(instance, "_agora_before", None)
    if created or before is None:
        _record(
            "roster.household_added", community_id, household=str(instance), area=_text(instance.exclusive_area), owner=instance.owner_key
        )
        return
    if _text(before["exclusive_area"]) != _text(instance.exclusive_area):
        _record(
            "roster.area",
            community_id,
            household=str(instance),
            before=_text(before["exclusive_area"]),
            after=_text(instance.exclusive_area),
        )
    if before["owner_key"] != instance.owner_key:
        _record("roster.owner", community_id, household=str(instance), before=before["owner_key"], after=instance.owner_key)


@receiver(post_delete, sender=Household)
def _household_deleted(sender: Any, instance: Household, **kwargs: Any) -> None:
    community_id = type(instance.building).objects.filter(pk=instance.building_id).values_list("community_id", flat=True).first()
    _record(
        "roster.household_removed",
        _surviving(community_id, kwargs.get("origin")),
        household=str(instance),
        area=_text(instance.exclusive_area),
        owner=instance.owner_key,
    )


# --- Residents: tenure, verification, household membership ------------------------------------


@receiver(pre_save, sender=Resident)
def _resident_before(sender: Any, instance: Resident, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    instance._agora_before = (  # type: ignore[attr-defined]
        Resident.objects.filter(pk=instance.pk).values("tenure", "verified", "household_id").first() if instance.pk else None
    )


@receiver(post_save, sender=Resident)
def _resident_saved(sender: Any, instance: Resident, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    before = getattr(instance, "_agora_before", None)
    who = _resident_name(instance)
    if created or before is None:
        _record(
            "roster.household",
            instance.community_id,
            resident=who,
            before="",
            after=_address(instance.household_id),
            tenure=instance.tenure,
            verified=instance.verified,
        )
        return
    household = _address(instance.household_id)
    if before["household_id"] != instance.household_id:
        _record("roster.household", instance.community_id, resident=who, before=_address(before["household_id"]), after=household)
    if before["tenure"] != instance.tenure:
        _record("roster.tenure", instance.community_id, resident=who, household=household, before=before["tenure"], after=instance.tenure)
    if before["verified"] != instance.verified:
        _record(
            "roster.verified", instance.community_id, resident=who, household=household, before=before["verified"], after=instance.verified
        )


@receiver(post_delete, sender=Resident)
def _resident_deleted(sender: Any, instance: Resident, **kwargs: Any) -> None:
    _record(
        "roster.household",
        _surviving(instance.community_id, kwargs.get("origin")),
        resident=_resident_name(instance),
        before=_address(instance.household_id),
        after="",
    )


# --- Tags (many-to-many) ---------------------------------------------------------------------


def _slugs(resident_id: int) -> list[str]:
    return sorted(Resident.tags.through.objects.filter(resident_id=resident_id).values_list("tag__slug", flat=True))


def _affected(instance: Any, reverse: bool, pk_set: set[int] | None) -> list[int]:
    if not reverse:
        return [instance.pk]
    if pk_set is None:  # clear() from the tag's side: everyone who has it
        return list(Resident.tags.through.objects.filter(tag_id=instance.pk).values_list("resident_id", flat=True))
    return sorted(pk_set)


@receiver(m2m_changed, sender=Resident.tags.through)
def _tags_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any) -> None:
    if action.startswith("pre_"):
        instance._agora_tag_before = {rid: _slugs(rid) for rid in _affected(instance, reverse, pk_set)}
        return
    before_all: dict[int, list[str]] = getattr(instance, "_agora_tag_before", {})
    for resident_id, before in before_all.items():
        after = _slugs(resident_id)
        if after == before:
            continue
        resident = Resident.objects.select_related("user").get(pk=resident_id)
        # ``tags.set()`` removes, then adds, in one transaction: one row for the whole change.
        previous: AuditEvent | None = getattr(resident if reverse else instance, "_agora_tag_event", None)
        if not reverse and previous is not None and transaction.get_connection().in_atomic_block and previous.detail.get("after") == before:
            previous.detail["after"] = after
            if previous.detail["before"] == after:
                previous.delete()
                instance._agora_tag_event = None
            else:
                previous.save(update_fields=["detail"])
            continue
        event = _record(
            "roster.tags",
            resident.community_id,
            resident=_resident_name(resident),
            household=_address(resident.household_id),
            before=before,
            after=after,
        )
        if not reverse:
            instance._agora_tag_event = event
    instance._agora_tag_before = {}
