"""What a valid choice looks like for each kind of motion (shared by online and in-person ballots)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agora.infra.errors import Refused
from voting.models import Motion, MotionKind, MotionOption

SINGLE_KINDS = {MotionKind.APPROVE_REJECT, MotionKind.SINGLE, MotionKind.ART278}

# Approve/reject options are stored by code. A context of their own: "Yes" alone is 是 elsewhere
# (Django admin); on a ballot it is 赞成.
CODED = {
    "yes": pgettext_lazy("ballot choice", "Yes"),
    "no": pgettext_lazy("ballot choice", "No"),
    "abstain": pgettext_lazy("ballot choice", "Abstain"),
}


def option_label(option: dict[str, Any]) -> Any:
    """赞成 / 反对 / 弃权 for coded options (lazily, in the reader's language); the text otherwise."""
    return CODED.get(option.get("code") or "", option.get("label", ""))


def validate_choice(*, motion: Motion, options: Sequence[MotionOption], choice: Any) -> list[int]:
    """Return the choice as a list of option ids, or refuse with a sentence.

    One id for approve/reject, single choice and Art. 278; a set (listed once each) for
    approval; an order of preference (best first, need not rank all) for ranked.
    """
    if isinstance(choice, int) and not isinstance(choice, bool):
        choice = [choice]
    if not isinstance(choice, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in choice):
        raise Refused(_("Please choose an option."), code="bad_choice")
    valid = {o.pk for o in options}
    if not choice and motion.kind != MotionKind.APPROVAL:
        # An approval ballot may tick nothing: it takes part (quorum) and gives no option a
        # vote (docs/voting.md, "Approval vote").
        raise Refused(_("Please choose an option."), code="bad_choice")
    if any(c not in valid for c in choice):
        raise Refused(_("That option is not part of this motion."), code="bad_choice")
    if len(set(choice)) != len(choice):
        if motion.kind == MotionKind.RANKED:
            raise Refused(
                _("You ranked the same option at two places. Give each option at most one place, then confirm."),
                code="bad_choice",
            )
        raise Refused(_("Each option can be chosen only once."), code="bad_choice")
    if motion.kind in SINGLE_KINDS and len(choice) != 1:
        raise Refused(_("Choose exactly one option."), code="bad_choice")
    if motion.kind == MotionKind.APPROVAL and motion.max_choices and len(choice) > motion.max_choices:
        raise Refused(_("You can choose at most %(n)d options.") % {"n": motion.max_choices}, code="bad_choice")
    if motion.kind == MotionKind.APPROVAL:
        order = {o.pk: o.position for o in options}
        choice = sorted(choice, key=lambda c: order[c])
    return list(choice)
