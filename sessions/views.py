"""Pages for topic sessions. Thin: parse input, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agora.infra.errors import NotAllowed
from agora.infra.http import AuthenticatedHttpRequest
from agora.infra.refusals import refusal_on, refusals_answered
from agora.roster.models import Community
from agora.roster.roles import moderated_communities
from sessions import rules, selectors, services
from sessions.access import access_session
from sessions.forms import MessageForm, TopicSessionForm
from sessions.meeting import console
from sessions.models import AttendanceIntent, TopicSession
from sessions.panels import Viewer, page_context


@login_required
def session_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "sessions/session_list.html",
        {"lists": selectors.session_lists(user=request.user), "moderated": moderated_communities(user=request.user)},
    )


@login_required
def session_detail(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = access_session(request.user, session_id)
    if not rules.can_follow(user=request.user, session=session):
        return render(request, "sessions/removed.html", {"session": session}, status=403)
    # The page is its panels (sessions/panels.py): each built here, the template only renders them.
    return render(request, "sessions/session_detail.html", page_context(Viewer(request, session)))


@login_required
def session_create(request: AuthenticatedHttpRequest, community_slug: str) -> HttpResponse:
    community = get_object_or_404(Community, slug=community_slug)
    if community not in moderated_communities(user=request.user):
        raise NotAllowed(_("Only a moderator of this community can do that."))
    form = TopicSessionForm(request.POST or None, community=community, language=get_language())
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            session = services.topic_session_create(
                community=community, by=request.user, agenda=form.cleaned_data["agenda"].splitlines(), **form.session_fields()
            )
            messages.success(request, _("The session was created as a draft."))
            return redirect("topic_sessions:detail", session_id=session.pk)
    return render(request, "sessions/session_form.html", {"form": form, "community": community, "session": None})


@login_required
def session_edit(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = access_session(request.user, session_id, moderate=True)
    form = TopicSessionForm(
        request.POST or None,
        community=session.community,
        language=get_language(),
        initial=TopicSessionForm.initial_for(session),
        previous_starts_at=session.starts_at,
    )
    form.fields.pop("agenda")
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            services.topic_session_update(session=session, by=request.user, **form.session_fields())
            messages.success(request, _("The session was saved."))
            return redirect("topic_sessions:detail", session_id=session.pk)
    return render(request, "sessions/session_form.html", {"form": form, "community": session.community, "session": session})


def _detail(request: HttpRequest, session_id: int, **_kwargs: object) -> str:
    return reverse("topic_sessions:detail", kwargs={"session_id": session_id})


def _transition_back(request: HttpRequest, session_id: int, action: str = "") -> str:
    if action == "adjourn":  # refused (a vote is open): the confirmation page says why and offers to close it
        return reverse("topic_sessions:adjourn_confirm", kwargs={"session_id": session_id})
    return _detail(request, session_id)


@login_required
@require_POST
@refusals_answered(back=_transition_back)
def session_transition(request: AuthenticatedHttpRequest, session_id: int, action: str) -> HttpResponse:
    session = access_session(request.user, session_id)
    actions = {
        "schedule": (services.topic_session_schedule, _("The session is scheduled and visible to its audience.")),
        "unschedule": (services.topic_session_unschedule, _("The session is back to draft.")),
        "open": (services.topic_session_open, _("The session is live.")),
    }
    if action == "adjourn":
        # Irreversible after a few minutes: asked on a page of its own first (works without JavaScript).
        if request.POST.get("confirmed") != "1":
            access_session(request.user, session_id, moderate=True)
            return redirect("topic_sessions:adjourn_confirm", session_id=session.pk)
        console.session_adjourn(session=session, by=request.user, close_open_votes=request.POST.get("close_votes") == "1")
        messages.success(request, _("The session is adjourned. You can undo this for a few minutes."))
        return redirect("topic_sessions:detail", session_id=session.pk)
    if action not in actions:
        raise Http404
    service, done = actions[action]
    service(session=session, by=request.user)
    messages.success(request, done)
    return redirect("topic_sessions:detail", session_id=session.pk)


@login_required
def session_adjourn_confirm(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """ "Adjourn the session?": what happens, and the open votes with the choice to close them now."""
    session = access_session(request.user, session_id, moderate=True)
    return render(request, "sessions/adjourn_confirm.html", console.adjourn_context(session=session))


@login_required
@require_POST
@refusals_answered(back=_detail)
def session_adjourn_undo(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = access_session(request.user, session_id)
    services.topic_session_adjourn_undo(session=session, by=request.user)
    messages.success(request, _("The adjournment was undone: the session is live again."))
    return redirect("topic_sessions:detail", session_id=session.pk)


def _attend_answer(request: AuthenticatedHttpRequest, session: TopicSession) -> HttpResponse:
    """The sign-up box again (htmx), or the session page."""
    if request.htmx:
        return render(
            request,
            "sessions/partials/_attend.html",
            {
                "session": session,
                "attending": AttendanceIntent.objects.filter(session=session, user=request.user).exists(),
                "attending_count": session.attendance_intents.count(),
                "can_attend": rules.can_attend(user=request.user, session=session),
            },
        )
    return redirect("topic_sessions:detail", session_id=session.pk)


def _attend_back(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    return _attend_answer(request, access_session(request.user, session_id))


@login_required
@require_POST
@refusals_answered(back=_attend_back, not_allowed_on_page=True)
def session_attend(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = access_session(request.user, session_id)
    attending = request.POST.get("attending") == "1"
    services.attendance_intent_set(session=session, user=request.user, attending=attending)
    messages.success(request, _("See you there.") if attending else _("You are no longer signed up."))
    return _attend_answer(request, session)


def _discussion(request: HttpRequest, session_id: int) -> str:
    return f"{request.build_absolute_uri(_detail(request, session_id))}#discussion"


@login_required
@require_POST
@refusals_answered(back=_discussion, not_allowed_on_page=True)
def message_create(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """The no-JavaScript way to post (comments before the meeting, or a phone without WebSockets)."""
    session = access_session(request.user, session_id)
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The message is empty."))
        return redirect(_discussion(request, session.pk))
    # Kept until it is posted: a refused post shows the page again with the text in the box.
    request.session["draft_text"] = form.cleaned_data["text"]
    message = services.message_post(
        session=session, author=request.user, text=form.cleaned_data["text"], idempotency_key=form.cleaned_data["idempotency_key"] or None
    )
    del request.session["draft_text"]
    if message.replayed:  # the same form sent again: answered with the message it stored
        messages.info(request, _("Your message was already posted."))
        return redirect(f"{_detail(request, session.pk)}#msg-{message.seq}")
    messages.success(request, _("Your message was posted."))
    return redirect(_discussion(request, session.pk))
