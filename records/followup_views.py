"""Pages for follow-up (落实事项): action items, progress, satisfaction, the overdue list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agora.infra.errors import NotAllowed
from agora.infra.http import AuthenticatedHttpRequest
from agora.infra.redirects import next_url
from agora.infra.refusals import refusals_answered
from records import rules, selectors, services, voting_bridge
from records.access import access_action_item
from records.forms import ActionItemForm, ActionUpdateForm, RatingForm
from records.models import SatisfactionRating
from sessions.models import TopicSession

# --- Follow-up -----------------------------------------------------------------------------


def _draft_page(request: HttpRequest, session_id: int) -> str:
    return next_url(request, reverse("minutes:draft", kwargs={"session_id": session_id}))


def _item_page(request: HttpRequest, item_id: int) -> str:
    return reverse("minutes:action_item", kwargs={"item_id": item_id})


@login_required
@require_POST
@refusals_answered(back=_draft_page)
def action_item_create(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(TopicSession, pk=session_id)
    form = ActionItemForm(request.POST, resolutions=voting_bridge.session_votes(session=session)["resolutions"])
    if form.is_valid():
        services.action_item_create(
            session=session,
            by=request.user,
            what=form.cleaned_data["what"],
            responsible=form.cleaned_data["responsible"],
            due_on=form.cleaned_data["due_on"],
            resolution_id=form.cleaned_data.get("resolution"),
        )
        messages.success(request, _("The action item was added."))
    else:
        messages.error(request, _("Say what is to be done and who is responsible."))
    return redirect(_draft_page(request, session.pk))


@require_GET
def action_item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = access_action_item(request.user, item_id)
    my_rating = (
        SatisfactionRating.objects.filter(item=item, user=request.user).values_list("score", flat=True).first()
        if request.user.is_authenticated
        else None
    )
    return render(
        request,
        "minutes/action_item.html",
        {
            "item": item,
            "record": item.minutes_record,  # type: ignore[attr-defined]
            "updates": item.updates.select_related("by"),
            "satisfaction": selectors.satisfaction_by_item(item_ids=[item.pk]).get(item.pk),
            "can_update": rules.can_update_action_item(user=request.user, item=item),
            "can_rate": rules.can_rate(user=request.user, item=item),
            "update_form": ActionUpdateForm(initial={"status": item.status}),
            "rating_form": RatingForm(initial={"score": my_rating}),
            "my_rating": my_rating,
        },
    )


@login_required
@require_POST
@refusals_answered(back=_item_page)
def action_item_update(request: AuthenticatedHttpRequest, item_id: int) -> HttpResponse:
    item = access_action_item(request.user, item_id)
    form = ActionUpdateForm(request.POST)
    if form.is_valid():
        services.action_item_update(item=item, by=request.user, **form.cleaned_data)  # status, note, drop_reason
        messages.success(request, _("The action item was updated."))
    else:
        messages.error(request, _("Choose a status."))
    return redirect(_item_page(request, item.pk))


@login_required
@require_POST
@refusals_answered(back=_item_page)
def action_item_rate(request: AuthenticatedHttpRequest, item_id: int) -> HttpResponse:
    item = access_action_item(request.user, item_id)
    form = RatingForm(request.POST)
    if form.is_valid():
        services.satisfaction_rate(item=item, user=request.user, score=form.cleaned_data["score"])
        messages.success(request, _("Thank you, your rating is saved."))
    else:
        messages.error(request, _("Choose a rating from 1 to 5."))
    return redirect(_item_page(request, item.pk))


@login_required
@require_GET
def follow_up(request: AuthenticatedHttpRequest) -> HttpResponse:
    from agora.roster.roles import moderated_communities

    if not moderated_communities(user=request.user):
        raise NotAllowed(_("Only moderators follow up action items."))
    return render(
        request,
        "minutes/follow_up.html",
        {"overdue": selectors.overdue_items(user=request.user), "open": selectors.open_items(user=request.user)},
    )
