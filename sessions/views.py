"""Pages for topic sessions. Thin: parse input, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agora.infra.errors import NotAllowed, Refused
from agora.infra.http import AuthenticatedHttpRequest
from agora.roster.models import Community
from agora.roster.roles import moderated_communities
from sessions import rules, selectors, services
from sessions.forms import MessageForm, TopicSessionForm
from sessions.models import AttendanceIntent, TopicSession


def _visible_session_or_404(request: HttpRequest, session_id: int) -> TopicSession:
    session = get_object_or_404(TopicSession.objects.select_related("community"), pk=session_id)
    if not rules.can_view(user=request.user, session=session):
        # Do not reveal that a session exists to someone outside it.
        raise Http404
    return session


@login_required
def session_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "sessions/session_list.html",
        {"lists": selectors.session_lists(user=request.user), "moderated": moderated_communities(user=request.user)},
    )


@login_required
def session_detail(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = _visible_session_or_404(request, session_id)
    if not rules.can_follow(user=request.user, session=session):
        return render(request, "sessions/removed.html", {"session": session}, status=403)
    history = selectors.messages_after(session=session, after_seq=0, limit=100_000)
    context = {
        "session": session,
        "agenda": session.agenda_items.all(),
        "history": history,
        "last_seq": history[-1]["seq"] if history else 0,
        "is_moderator_view": rules.can_moderate(user=request.user, session=session),
        "can_post": rules.can_post(user=request.user, session=session),
        "can_attend": rules.can_attend(user=request.user, session=session),
        "attending": AttendanceIntent.objects.filter(session=session, user=request.user).exists(),
        "attending_count": session.attendance_intents.count(),
        "transitions": session.transitions.select_related("by") if rules.can_moderate(user=request.user, session=session) else [],
        "presence": selectors.presence_snapshot(session_id=session.pk),
        "form": MessageForm(initial={"text": request.session.pop("draft_text", "")}),
        "audience_labels": [t.label(get_language()) for t in session.audience_tags.all()],
    }
    return render(request, "sessions/session_detail.html", context)


@login_required
def session_create(request: AuthenticatedHttpRequest, community_slug: str) -> HttpResponse:
    community = get_object_or_404(Community, slug=community_slug)
    if community not in moderated_communities(user=request.user):
        return HttpResponseForbidden(_("Only a moderator of this community can do that."))
    form = TopicSessionForm(request.POST or None, community=community, language=get_language())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.topic_session_create(
                community=community,
                by=request.user,
                title=data["title"],
                category=data["category"],
                description=data["description"],
                starts_at=data["starts_at"],
                place=data["place"],
                audience_tags=data["audience_tags"],
                observers=data["observers"],
                agenda=data["agenda"].splitlines(),
            )
        except Refused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("The session was created as a draft."))
            return redirect("topic_sessions:detail", session_id=session.pk)
    return render(request, "sessions/session_form.html", {"form": form, "community": community, "session": None})


@login_required
def session_edit(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = _visible_session_or_404(request, session_id)
    if not rules.can_moderate(user=request.user, session=session):
        return HttpResponseForbidden(_("Only a moderator of this community can do that."))
    form = TopicSessionForm(
        request.POST or None,
        community=session.community,
        language=get_language(),
        initial=TopicSessionForm.initial_for(session),
    )
    form.fields.pop("agenda")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.topic_session_update(
                session=session,
                by=request.user,
                title=data["title"],
                category=data["category"],
                description=data["description"],
                starts_at=data["starts_at"],
                place=data["place"],
                audience_tags=data["audience_tags"],
                observers=data["observers"],
            )
        except Refused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("The session was saved."))
            return redirect("topic_sessions:detail", session_id=session.pk)
    return render(request, "sessions/session_form.html", {"form": form, "community": session.community, "session": session})


@login_required
@require_POST
def session_transition(request: AuthenticatedHttpRequest, session_id: int, action: str) -> HttpResponse:
    session = _visible_session_or_404(request, session_id)
    actions = {
        "schedule": (services.topic_session_schedule, _("The session is scheduled and visible to its audience.")),
        "unschedule": (services.topic_session_unschedule, _("The session is back to draft.")),
        "open": (services.topic_session_open, _("The session is live.")),
        "adjourn": (services.topic_session_adjourn, _("The session is adjourned.")),
    }
    if action not in actions:
        raise Http404
    service, done = actions[action]
    try:
        service(session=session, by=request.user)
    except NotAllowed as refusal:
        return HttpResponseForbidden(str(refusal))
    except Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, done)
    return redirect("topic_sessions:detail", session_id=session.pk)


@login_required
@require_POST
def session_attend(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = _visible_session_or_404(request, session_id)
    attending = request.POST.get("attending") == "1"
    try:
        services.attendance_intent_set(session=session, user=request.user, attending=attending)
    except Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("See you there.") if attending else _("You are no longer signed up."))
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


@login_required
@require_POST
def message_create(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """The no-JavaScript way to post (comments before the meeting, or a phone without WebSockets)."""
    session = _visible_session_or_404(request, session_id)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            services.message_post(session=session, author=request.user, text=form.cleaned_data["text"])
        except Refused as refusal:
            messages.error(request, str(refusal))
            # Keep what the user typed: show the page again with the text in the box.
            request.session["draft_text"] = form.cleaned_data["text"]
        else:
            messages.success(request, _("Your message was posted."))
    else:
        messages.error(request, _("The message is empty."))
    return redirect(f"{request.build_absolute_uri(session_url(session))}#discussion")


def session_url(session: TopicSession) -> str:
    from django.urls import reverse

    return reverse("topic_sessions:detail", kwargs={"session_id": session.pk})
