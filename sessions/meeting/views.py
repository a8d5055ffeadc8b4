"""Pages of the running meeting. Thin: check, call one command or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agora.infra.http import AuthenticatedHttpRequest
from agora.infra.redirects import next_url
from agora.infra.refusals import refusals_answered
from agora.roster.accounts import client_ip
from agora.roster.roles import is_member
from sessions import rules
from sessions.access import access_session
from sessions.meeting import attendance, console, selectors, services
from sessions.meeting.commands import COMMANDS, command_run
from sessions.meeting.guesses import join_guess_failed, join_guess_paused
from sessions.meeting.rules import is_valid_join_code, normalize_join_code
from sessions.models import MeetingRoom, SessionState, TopicSession


def _detail_url(session: TopicSession | int) -> str:
    return reverse("topic_sessions:detail", kwargs={"session_id": getattr(session, "pk", session)})


def _meeting_back(request: HttpRequest, session_id: int, **_kwargs: object) -> str:
    return next_url(request, _detail_url(session_id) + "#meeting")


@login_required
@require_POST
@refusals_answered(back=_meeting_back)
def meeting_action(request: AuthenticatedHttpRequest, session_id: int, action: str) -> HttpResponse:
    """The no-JavaScript way to every meeting action (the same commands as the WebSocket)."""
    session = access_session(request.user, session_id)
    command = COMMANDS.get(action)
    if command is None:
        raise Http404
    data = {key: (request.POST.getlist(key) if key == "user_ids" else request.POST.get(key)) for key in request.POST}
    command_run(
        name=action,
        session_id=session.pk,
        user=request.user,
        data=data,
        can_moderate=rules.can_moderate(user=request.user, session=session),
    )
    messages.success(request, str(command.done))
    return redirect(_meeting_back(request, session.pk))


@login_required
def console_next(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """The console's next-step card alone: fetched again when a vote opens or closes, or the agenda moves."""
    session = access_session(request.user, session_id, moderate=True)
    response = render(request, "sessions/meeting/_next_step.html", console.console_context(session=session))
    response["Cache-Control"] = "no-store"
    return response


@login_required
def moderation_log(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = access_session(request.user, session_id, moderate=True)
    entries = list(selectors.moderation_log(session=session, user=request.user)[:1000])
    return render(request, "sessions/meeting/log.html", {"session": session, "entries": entries})


@login_required
def checkin_desk(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """The door: search residents by name or room number and check them (or their household) in."""
    session = access_session(request.user, session_id, moderate=True)
    query = (request.GET.get("q") or "").strip()[:60]
    context = {
        "session": session,
        "query": query,
        "results": selectors.checkin_search(session=session, query=query),
        "checked_in": selectors.checked_in_people(session=session),
        "summary": selectors.attendance_summary(session),
        "room": services.meeting_room_ensure(session=session),
        "open": session.state in (SessionState.SCHEDULED, SessionState.LIVE),
    }
    return render(request, "sessions/meeting/checkin.html", context)


@login_required
def join(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Type the code shown in the room (入会码)."""
    raw = request.GET.get("code")
    error = ""
    if raw is not None:
        code = normalize_join_code(raw)
        if is_valid_join_code(code):
            return redirect("meeting_join_code", code=code)
        error = _("A join code has 6 letters and digits, for example K7PX3M. Please check and type it again.")
    return render(request, "sessions/meeting/join.html", {"error": error, "code": raw or ""}, status=400 if error else 200)


def _room_or_404(code: str) -> MeetingRoom:
    code = normalize_join_code(code)
    if not is_valid_join_code(code):
        raise Http404
    return get_object_or_404(MeetingRoom.objects.select_related("session", "session__community"), join_code=code)


def _join_page(request: HttpRequest, code: str, error: str, status: int) -> HttpResponse:
    return render(request, "sessions/meeting/join.html", {"error": error, "code": code}, status=status)


def _room_for_guess(request: HttpRequest, code: str) -> MeetingRoom | HttpResponse:
    """The room of a typed or scanned code, or the page that refuses it.

    Codes are few enough to guess, so guessing is limited (sessions/meeting/guesses.py), and a
    session of another community answers exactly as a code that does not exist."""
    address, user_id = client_ip(request), request.user.pk
    if join_guess_paused(address=address, user_id=user_id):
        return _join_page(
            request,
            code,
            _("Too many wrong join codes were tried. Please wait a few minutes, then type the code shown in the room again."),
            429,
        )
    try:
        room = _room_or_404(code)
    except Http404:
        room = None
    if room is None or (
        not is_member(user=request.user, community=room.session.community_id)
        and not rules.can_view(user=request.user, session=room.session)
    ):
        join_guess_failed(address=address, user_id=user_id)
        return _join_page(request, code, _("No session has this join code. Please check the code shown in the room."), 404)
    return room


def _audience_room(request: AuthenticatedHttpRequest, code: str) -> MeetingRoom | HttpResponse:
    """The room of the code, for someone in its session's audience; or the page that refuses."""
    room = _room_for_guess(request, code)
    if isinstance(room, HttpResponse):
        return room
    if not rules.can_view(user=request.user, session=room.session):
        return _join_page(request, code, _("This session is for other residents; you are not in its audience."), 403)
    return room


@login_required
def join_code(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Scanned or typed: straight into the session (after login)."""
    room = _audience_room(request, code)
    if isinstance(room, HttpResponse):
        return room
    if normalize_join_code(code) != code:
        return redirect("meeting_join_code", code=room.join_code)
    return redirect(_detail_url(room.session))


def _checkin_back(request: HttpRequest, code: str, token: str) -> str:
    return _detail_url(_room_or_404(code).session_id)


@login_required
@refusals_answered(back=_checkin_back, not_allowed_on_page=True)
def checkin_self(request: AuthenticatedHttpRequest, code: str, token: str) -> HttpResponse:
    """The room's check-in QR code: one tap to say "I am here"."""
    room = _audience_room(request, code)
    if isinstance(room, HttpResponse):
        return room
    session = room.session
    if request.method == "POST":
        newly = attendance.checkin_self(session=session, user=request.user, token=token)
        messages.success(request, _("You are checked in. Welcome!") if newly else _("You were already checked in."))
        return redirect(_detail_url(session))
    return render(request, "sessions/meeting/checkin_self.html", {"session": session, "room": room, "token": token})


def projector(request: HttpRequest, token: str) -> HttpResponse:
    """The room's big screen (大屏). No login: the secret link is the key, and it only shows."""
    from sessions.meeting.projector import screen_context, screen_kinds_json

    room = MeetingRoom.objects.select_related("session", "session__community").filter(projector_token=token).first()
    if room is None:
        raise Http404
    session = room.session
    join_url = request.build_absolute_uri(selectors.join_path(room))
    checkin_url = request.build_absolute_uri(selectors.checkin_path(room))
    context = {
        "session": session,
        "room": room,
        "join_url": join_url,
        "join_qr": selectors.join_qr_path(room),
        "checkin_url": checkin_url,
        "checkin_qr": reverse("meeting_projector_checkin_qr", kwargs={"token": room.projector_token}),
        "floor": selectors.floor_data(session=session),
        "agenda_data": selectors.agenda_data(session=session),
        **screen_context(session_id=session.pk, language=get_language()),
        "screen_kinds": screen_kinds_json(),
        "viewer_role": "projector",
        "is_moderator_view": False,
    }
    response = render(request, "sessions/projector.html", context)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def _png(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def join_qr(request: HttpRequest, code: str) -> HttpResponse:
    """The join QR code as an image: it only says where the code leads, so no login is needed
    (and a 404 or not tells whether a code exists: counted as a guess, like a typed code)."""
    address = client_ip(request)
    if join_guess_paused(address=address, user_id=None):
        return HttpResponse(status=429)
    try:
        room = _room_or_404(code)
    except Http404:
        join_guess_failed(address=address, user_id=None)
        raise
    return _png(selectors.qr_png(request.build_absolute_uri(selectors.join_path(room))))


def projector_checkin_qr(request: HttpRequest, token: str) -> HttpResponse:
    """The room's check-in QR code, for the screen that holds the projector secret."""
    room = MeetingRoom.objects.filter(projector_token=token).first()
    if room is None:
        raise Http404
    return _png(selectors.qr_png(request.build_absolute_uri(selectors.checkin_path(room)), scale=6))


@login_required
def checkin_qr(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """The check-in QR code for moderators to print or show at the door."""
    session = access_session(request.user, session_id, moderate=True)
    room = services.meeting_room_ensure(session=session)
    return _png(selectors.qr_png(request.build_absolute_uri(selectors.checkin_path(room))))
