"""A roster file kept between its preview and its import, so the moderator confirms without
uploading it again. Found by the hash of a random token in the preview's address; only its uploader
in its community may use it; removed after the import, and ignored and removed after
``UPLOAD_MINUTES``."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from agora.roster.audit import audit_record
from agora.roster.importer import ImportReport, roster_import, roster_lines
from agora.roster.models import Community, RosterUpload

UPLOAD_MINUTES = 60


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expired_remove() -> None:
    RosterUpload.objects.filter(created_at__lt=timezone.now() - timedelta(minutes=UPLOAD_MINUTES)).delete()


def roster_upload_store(*, community: Community, by: Any, filename: str, data: bytes) -> str:
    """Keep the file; its token. The file is read first, so one that cannot be read is refused
    (``Refused``) before anything is kept."""
    roster_lines(data)
    _expired_remove()
    token = secrets.token_urlsafe(24)
    RosterUpload.objects.create(token_hash=_hash(token), community=community, uploaded_by=by, filename=filename[:200], data=data)
    return token


def roster_upload_get(*, community: Community, by: Any, token: str) -> RosterUpload | None:
    """The kept file, or None (unknown, someone else's, or expired)."""
    fresh = timezone.now() - timedelta(minutes=UPLOAD_MINUTES)
    return RosterUpload.objects.filter(token_hash=_hash(token), community=community, uploaded_by=by, created_at__gte=fresh).first()


def roster_upload_preview(*, upload: RosterUpload) -> ImportReport:
    return roster_import(community=upload.community, lines=roster_lines(bytes(upload.data)), by=upload.uploaded_by, dry_run=True)


def roster_upload_import(*, upload: RosterUpload, ip_address: str | None = None) -> ImportReport:
    """Import the kept file, all or nothing, and remove it once imported."""
    with transaction.atomic():
        locked = RosterUpload.objects.select_for_update().filter(pk=upload.pk).first()
        if locked is None:  # imported a moment ago, from another tab
            return ImportReport()
        report = roster_import(community=upload.community, lines=roster_lines(bytes(locked.data)), by=upload.uploaded_by)
        if not report.errors:
            audit_record(
                kind="roster.imported",
                community=upload.community,
                actor=upload.uploaded_by,
                ip_address=ip_address,
                file=upload.filename,
                rows=report.rows,
                created=sum(report.created.values()),
                updated=sum(report.updated.values()),
            )
            locked.delete()
    return report
