"""Pages for votes. Thin: parse input, call one service, render (the live path is voting/live.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agora.infra.errors import NotAllowed
from agora.infra.http import AuthenticatedHttpRequest
from agora.infra.refusals import refusal_on, refusals_answered
from voting import ballots, closing, rules, selectors, services
from voting.access import access_motion, access_session_motions
from voting.forms import InPersonForm, MotionForm
from voting.models import Channel, Motion, MotionState


def _motions_url(session_id: int) -> str:
    return reverse("topic_sessions:detail", kwargs={"session_id": session_id}) + "#motions"


def _back(session_id: int) -> HttpResponse:
    return redirect(_motions_url(session_id))


def _back_to_motions(request: HttpRequest, session_id: int, *_args: object, **_kwargs: object) -> str:
    return _motions_url(session_id)


@login_required
def motion_create(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = access_session_motions(request.user, session_id)
    form = MotionForm(request.POST or None, session=session)
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            services.motion_create(
                session=session,
                by=request.user,
                text=form.cleaned_data["text"],
                description=form.cleaned_data["description"],
                agenda_item=form.agenda_item_obj(),
                settings=form.motion_settings(),
            )
            messages.success(request, _("The motion was saved as a draft. Open voting when the time comes."))
            return _back(session.pk)
    return render(request, "voting/motion_form.html", {"form": form, "session": session})


@refusals_answered(back=_back_to_motions)
def _transition(request: AuthenticatedHttpRequest, session_id: int, motion_id: int, action: str) -> HttpResponse:
    motion = access_motion(request.user, session_id, motion_id)
    done = {
        "open": _("Voting is open."),
        "close": _("Voting is closed and the result is published."),
        "discard": _("The draft was deleted."),
    }
    if action == "open":
        services.motion_open(motion=motion, by=request.user)
    elif action == "close":
        if request.POST.get("confirmed") != "1":
            # Closing ends the vote for good: asked on a page of its own (works without JavaScript).
            if not rules.can_manage_motions(user=request.user, session=motion.room):
                raise NotAllowed(_("Only a moderator of this session can do that."))
            return render(request, "voting/close_confirm.html", {"motion": motion, "session": motion.room})
        services.motion_close(motion=motion, by=request.user)
    else:
        services.motion_discard(motion=motion, by=request.user)
    messages.success(request, done[action])
    return _back(session_id)


@login_required
@require_POST
@refusals_answered(back=_back_to_motions)
def motion_tie_draw(request: AuthenticatedHttpRequest, session_id: int, motion_id: int) -> HttpResponse:
    """The moderator resolves a tie by a recorded public draw (voting.services.motion_tie_draw)."""
    motion = access_motion(request.user, session_id, motion_id)
    services.motion_tie_draw(motion=motion, by=request.user, public_value=request.POST.get("public_value", ""))
    messages.success(request, _("The tie was decided by the public draw; the draw is recorded in the result."))
    return _back(session_id)


@login_required
@require_POST
def motion_open(request: AuthenticatedHttpRequest, session_id: int, motion_id: int) -> HttpResponse:
    return _transition(request, session_id, motion_id, "open")


@login_required
@require_POST
def motion_close(request: AuthenticatedHttpRequest, session_id: int, motion_id: int) -> HttpResponse:
    return _transition(request, session_id, motion_id, "close")


@login_required
@require_POST
def motion_discard(request: AuthenticatedHttpRequest, session_id: int, motion_id: int) -> HttpResponse:
    return _transition(request, session_id, motion_id, "discard")


@login_required
@require_POST
@refusals_answered(back=_back_to_motions, not_allowed_on_page=True)
def ballot_cast(request: AuthenticatedHttpRequest, session_id: int, motion_id: int) -> HttpResponse:
    """The no-JavaScript ballot: the confirmation page shows the receipt.

    In elder mode the ballot is cast only once the voter has seen their choice in words and
    confirmed it: first a page asks, then its form posts the same ballot with ``confirmed=1``
    (with JavaScript, live.js asks in the page and sets ``confirmed`` itself).
    """
    motion = access_motion(request.user, session_id, motion_id)
    choice_values = request.POST.getlist("rank") if motion.kind == "ranked" else request.POST.getlist("choice")
    try:
        choice = [int(v) for v in choice_values if v]
    except ValueError:
        choice = []
    if getattr(request, "elder_mode", False) and request.POST.get("confirmed") != "1":
        chosen = ballots.ballot_preview(motion=motion, voter=request.user, choice=choice)
        return render(
            request,
            "voting/ballot_confirm.html",
            {
                "motion": motion,
                "session": motion.session,
                "chosen": [{"id": o.pk, "code": o.code, "label": o.label} for o in chosen],
                "field": "rank" if motion.kind == "ranked" else "choice",
                "idempotency_key": request.POST.get("idempotency_key", ""),
                "receipt": request.POST.get("receipt", ""),
            },
        )
    result = ballots.ballot_cast(
        motion=motion,
        voter=request.user,
        choice=choice,
        idempotency_key=request.POST.get("idempotency_key", ""),
        receipt=request.POST.get("receipt") or None,
    )
    return render(request, "voting/ballot_receipt.html", {"motion": motion, "result": result, "session": motion.session})


@login_required
def in_person_enter(request: AuthenticatedHttpRequest, session_id: int, motion_id: int) -> HttpResponse:
    motion = access_motion(request.user, session_id, motion_id, manage=True)
    form = InPersonForm(request.POST or None, motion=motion)
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            services.in_person_count_enter(motion=motion, by=request.user, entries=form.entries())
            messages.success(request, _("The in-person counts were recorded."))
            return _back(session_id)
    counts = motion.in_person_counts.select_related("entered_by", "household__building")
    # A secret vote's household entries are sealed until close (voting/secrecy.py): the
    # moderator sees which households were recorded, never beside a choice.
    room = motion.participations.filter(channel=Channel.IN_PERSON, household__isnull=False).select_related("household__building")
    room_households = sorted((str(p.household) for p in room), key=str) if motion.secret and motion.is_open else []
    return render(
        request,
        "voting/in_person_form.html",
        {"form": form, "motion": motion, "session": motion.session, "counts": counts, "room_households": room_households},
    )


def _results_context(motion: Motion) -> dict[str, object]:
    return {
        "motion": selectors.motion_data(motion),
        "tally": selectors.live_tally_data(motion),
        "result": selectors.resolution_data(motion.resolution) if motion.state == MotionState.CLOSED else None,
        "session": motion.session,
        "is_moderator_view": False,
    }


def _without_receipt(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The old no-JavaScript check put the receipt in the URL, where logs, proxies and the
    browser's history keep it: send such a request to the same page without it, before the
    login redirect would copy it into ``?next=`` (agora/infra/access_log.py keeps it out of daphne's
    log line for this one request)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if "receipt" in request.GET:
            query = request.GET.copy()
            query.pop("receipt")
            return redirect(request.path + (f"?{query.urlencode()}" if query else ""))
        return view(request, *args, **kwargs)

    return wrapped


@_without_receipt
@login_required
def motion_results(request: AuthenticatedHttpRequest, session_id: int, motion_id: int) -> HttpResponse:
    """The projector view (large type). The receipt check is :func:`receipt_check` (a POST)."""
    motion = access_motion(request.user, session_id, motion_id)
    closing.motion_close_due(session_id=motion.session_id)
    motion.refresh_from_db()
    template = "voting/partials/_results_body.html" if request.GET.get("fragment") else "voting/results.html"
    return render(request, template, _results_context(motion))


@_without_receipt
@login_required
def motion_results_screen(request: AuthenticatedHttpRequest, session_id: int, motion_id: int) -> HttpResponse:
    """The result on the room's big screen: a layout of its own, no site header, one screen."""
    motion = access_motion(request.user, session_id, motion_id)
    closing.motion_close_due(session_id=motion.session_id)
    motion.refresh_from_db()
    return render(request, "voting/results_screen.html", {**_results_context(motion), "viewer_role": "projector"})


@login_required
@require_POST
def receipt_check(request: AuthenticatedHttpRequest, session_id: int, motion_id: int) -> HttpResponse:
    """Is this receipt in the counted list? Without JavaScript; a POST, so the receipt never
    appears in a URL (logs, history, Referer)."""
    motion = access_motion(request.user, session_id, motion_id)
    closing.motion_close_due(session_id=motion.session_id)
    motion.refresh_from_db()
    context = _results_context(motion)
    receipt = (request.POST.get("receipt") or "").strip()
    if receipt and context["result"] is not None:
        context["receipt_value"] = receipt
        context["receipt_checked"] = True
        context["receipt_found"] = ballots.receipt_hash(receipt) in motion.resolution.receipt_hashes
    return render(request, "voting/results.html", context)
