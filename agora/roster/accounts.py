"""Account events: audit records, and closing a person's live connections at once when they log
out or lose access (a removed resident must not keep listening)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from agora.infra.broadcast import broadcast_on_commit, user_group
from agora.roster.audit import audit_record, communities_of_username
from agora.roster.models import Community, Membership, Resident


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the hop our own proxies saw (AGORA_PROXY_COUNT)."""
    hops = settings.AGORA_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return str(request.META.get("REMOTE_ADDR", ""))


def _or_none(community_ids: list[int]) -> list[int | None]:
    """The communities a login event is audited in: none (one event without a community) for a
    name that belongs to no community."""
    return [*community_ids] or [None]


def address_failed_usernames(ip_address: str) -> int:
    """How many different usernames failed to log in from this address in the cool-off window
    and have not logged in from it since (django-axes' attempts, reset on success)."""
    from axes.models import AccessAttempt

    window: timedelta = settings.AXES_COOLOFF_TIME
    attempts = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=timezone.now() - window)
    return attempts.values("username").distinct().count()


def address_paused(ip_address: str) -> bool:
    """Password spraying: many accounts failing from one address. Beyond the limit the address's
    new attempts are refused until its failures age out of the window; the accounts
    themselves are not locked, so their owners log in from anywhere else."""
    return bool(ip_address) and address_failed_usernames(ip_address) >= settings.AGORA_LOGIN_ADDRESS_LIMIT


class AddressLimitBackend:
    """First of AUTHENTICATION_BACKENDS: refuses every login attempt from a paused address before
    any password is checked, and lets django-axes show the lock page (``request.axes_locked_out``;
    axes still records it, so an address that keeps spraying stays paused). No ``get_user``: it never
    logs anyone in (and ``force_login`` picks the first backend that has one)."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any) -> None:
        from axes.exceptions import AxesBackendPermissionDenied

        ip = client_ip(request) if request is not None else ""
        if request is None or not address_paused(ip):
            return None
        for community_id in _or_none(communities_of_username(str(username or "")[:150])):
            audit_record(kind="login.locked", community=community_id, ip_address=ip, username=str(username or "")[:150], locked="address")
        request.axes_locked_out = True  # type: ignore[attr-defined]
        request.agora_address_paused = True  # type: ignore[attr-defined]
        raise AxesBackendPermissionDenied("too many accounts failed to log in from this address")


def user_connections_close(*, user_id: int, reason: str) -> None:
    """Close every live connection of this user, on every process, once the change commits."""
    broadcast_on_commit(user_group(user_id), {"type": "user.disconnect", "reason": reason, "session_id": None})


@receiver(user_logged_out)
def _on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    user_connections_close(user_id=user.pk, reason="logout")
    for community_id in communities_of_username(user.get_username()):
        audit_record(kind="logout", community=community_id, actor=user, ip_address=client_ip(request) if request else None)


@receiver(user_logged_in)
def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    for community_id in communities_of_username(user.get_username()):
        audit_record(kind="login.succeeded", community=community_id, actor=user, ip_address=client_ip(request) if request else None)


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    ip = client_ip(request) if request else None
    communities = _or_none(communities_of_username(username))
    for community_id in communities:
        audit_record(kind="login.failed", community=community_id, ip_address=ip, username=username)


def _on_lockout(sender: Any, request: HttpRequest, username: str, ip_address: str, **kwargs: Any) -> None:
    for community_id in _or_none(communities_of_username(username)):
        audit_record(kind="login.locked", community=community_id, ip_address=ip_address, username=username)


@receiver(pre_save, sender=get_user_model())
def _remember_active(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.pk:
        instance._agora_was_active = sender.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()


@receiver(post_save, sender=get_user_model())
def _on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created and getattr(instance, "_agora_was_active", None) and not instance.is_active:
        user_connections_close(user_id=instance.pk, reason="deactivated")
        for community_id in communities_of_username(instance.get_username()):
            audit_record(kind="account.deactivated", community=community_id, username=instance.get_username())


@receiver(post_save, sender=Membership)
def _on_role_saved(sender: Any, instance: Membership, created: bool, **kwargs: Any) -> None:
    audit_record(
        kind="role.granted" if created else "role.changed",
        community=instance.community_id,
        actor=getattr(instance, "_agora_by", None),
        username=instance.user.get_username(),
        role=instance.role,
    )
    if not created:
        user_connections_close(user_id=instance.user_id, reason="role_changed")


@receiver(post_delete, sender=Membership)
@receiver(post_delete, sender=Resident)
def _on_access_removed(sender: Any, instance: Membership | Resident, **kwargs: Any) -> None:
    # When the community itself is being deleted, its log goes with it: file this under none.
    community_id = None if isinstance(kwargs.get("origin"), Community) else instance.community_id
    audit_record(
        kind="role.revoked", community=community_id, username=instance.user.get_username(), role=getattr(instance, "role", "resident")
    )
    user_connections_close(user_id=instance.user_id, reason="role_revoked")


def connect_axes_signals() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(_on_lockout, dispatch_uid="agora_lockout")
