"""How a ballot reached the count."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """How a ballot reached the count. A live motion takes online and in-person ballots; an
    owners' decision (voting.models.decisions) takes every one."""

    ONLINE = "online", _("Online")
    IN_PERSON = "in_person", _("In person")
    PAPER = "paper", _("Paper ballot")
    DOOR = "door", _("Door to door")
    PROXY = "proxy", _("By proxy")
