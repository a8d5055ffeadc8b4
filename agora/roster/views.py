"""The moderator's roster pages (upload, residents' logins, grid workers and observers) and the
resident's login with an invitation code. Thin: parse, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from agora.infra.errors import Refused
from agora.infra.http import AuthenticatedHttpRequest
from agora.infra.pdf import streaming_pdf_response
from agora.infra.refusals import refusal_on
from agora.roster import selectors
from agora.roster.accounts import client_ip
from agora.roster.forms import ChoosePasswordForm, CodeForm, GridsForm, RosterFileForm, StaffAddForm
from agora.roster.importer import ImportReport
from agora.roster.invitations import invitation_issue, invitation_redeem, invitation_revoke, password_choose, password_set_by_moderator
from agora.roster.models import Community, Membership
from agora.roster.sheets import sheets_pdf
from agora.roster.staff import staff_add, staff_grids_set, staff_remove
from agora.roster.stewardship import roster_manage_check
from agora.roster.uploads import roster_upload_get, roster_upload_import, roster_upload_preview, roster_upload_store


def _community(request: HttpRequest, slug: str) -> Community:
    community = get_object_or_404(Community, slug=slug)
    roster_manage_check(user=request.user, community=community)
    return community


def _counts(bucket: dict[str, int]) -> list[tuple[str, int]]:
    labels = {
        "grid": _("grids"),
        "building": _("buildings"),
        "household": _("households"),
        "user": _("accounts"),
        "resident": _("residents"),
        "resident tags": _("residents' tags"),
    }
    return [(str(labels.get(kind, kind)), n) for kind, n in sorted(bucket.items())]


def _report_context(report: ImportReport) -> dict[str, Any]:
    return {"report": report, "created": _counts(report.created), "updated": _counts(report.updated)}


@login_required
def roster_home(request: AuthenticatedHttpRequest, community_slug: str) -> HttpResponse:
    community = _community(request, community_slug)
    return render(request, "roster/home.html", {"community": community})


@login_required
@require_http_methods(["GET", "POST"])
def roster_upload(request: AuthenticatedHttpRequest, community_slug: str) -> HttpResponse:
    community = _community(request, community_slug)
    form = RosterFileForm(request.POST if request.method == "POST" else None, request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        with refusal_on(form):
            token = roster_upload_store(community=community, by=request.user, filename=upload.name or "", data=upload.read())
            return redirect("roster:preview", community_slug=community.slug, token=token)
    return render(request, "roster/upload.html", {"community": community, "form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def roster_preview(request: AuthenticatedHttpRequest, community_slug: str, token: str) -> HttpResponse:
    community = _community(request, community_slug)
    upload = roster_upload_get(community=community, by=request.user, token=token)
    if upload is None:
        messages.error(request, _("This upload has expired or was already imported. Upload the file again."))
        return redirect("roster:upload", community_slug=community.slug)
    if request.method == "POST" and request.POST.get("confirmed") == "1":
        report = roster_upload_import(upload=upload, ip_address=client_ip(request))
        if not report.errors:
            return render(request, "roster/imported.html", {"community": community, "filename": upload.filename, **_report_context(report)})
    else:
        report = roster_upload_preview(upload=upload)
    context = {"community": community, "upload": upload, "token": token, "form": RosterFileForm(), **_report_context(report)}
    return render(request, "roster/preview.html", context, status=400 if report.errors else 200)


# --- Residents' logins -------------------------------------------------------------------------


def _building_id(request: HttpRequest, community: Community) -> int | None:
    try:
        chosen = int(request.GET.get("building", ""))
    except ValueError:
        return None
    return chosen if any(b.pk == chosen for b in selectors.community_buildings(community)) else None


@login_required
def roster_residents(request: AuthenticatedHttpRequest, community_slug: str) -> HttpResponse:
    community = _community(request, community_slug)
    building_id = _building_id(request, community)
    context = {
        "community": community,
        "buildings": selectors.community_buildings(community),
        "building_id": building_id,
        "rows": selectors.resident_rows(community=community, building_id=building_id),
    }
    return render(request, "roster/residents.html", context)


def _account(community: Community, user_id: int) -> Any:
    """A person of this community (resident or staff), or 404."""
    users = get_user_model().objects.filter(Q(residencies__community=community) | Q(memberships__community=community)).distinct()
    return get_object_or_404(users, pk=user_id)


def _chosen_accounts(request: HttpRequest, community: Community) -> list[Any]:
    ids = [int(v) for v in request.POST.getlist("user") + request.GET.getlist("user") if v.isdigit()]
    return [_account(community, i) for i in dict.fromkeys(ids)]


@login_required
@require_http_methods(["GET", "POST"])
def roster_sheets(request: AuthenticatedHttpRequest, community_slug: str) -> HttpResponse | StreamingHttpResponse:
    """GET: which people get a new sheet, and that their old sheets stop working. POST
    (confirmed): the new codes, as one PDF to print."""
    community = _community(request, community_slug)
    people = _chosen_accounts(request, community)
    if not people:
        messages.error(request, _("Tick at least one person to print a sheet for."))
        return redirect("roster:residents", community_slug=community.slug)
    if request.method == "POST" and request.POST.get("confirmed") == "1":
        with transaction.atomic():
            issued = [invitation_issue(user=u, community=community, by=request.user, ip_address=client_ip(request)) for u in people]
        login_url = request.build_absolute_uri(reverse("code_login_form"))
        chunks = sheets_pdf(community=community, issued=issued, login_url=login_url, entry_address=login_url)
        return streaming_pdf_response(chunks, f"{community.slug}-invitations.pdf", attachment=False)
    return render(request, "roster/sheets_confirm.html", {"community": community, "people": people})


@login_required
@require_http_methods(["GET", "POST"])
def roster_revoke(request: AuthenticatedHttpRequest, community_slug: str, user_id: int) -> HttpResponse:
    community = _community(request, community_slug)
    person = _account(community, user_id)
    if request.method == "POST" and request.POST.get("confirmed") == "1":
        invitation_revoke(user=person, community=community, by=request.user, ip_address=client_ip(request))
        messages.success(request, _("The sheet of %(name)s no longer works.") % {"name": person.get_full_name() or person.get_username()})
        return redirect("roster:residents", community_slug=community.slug)
    return render(request, "roster/revoke_confirm.html", {"community": community, "person": person})


@login_required
@require_http_methods(["GET", "POST"])
def roster_password(request: AuthenticatedHttpRequest, community_slug: str, user_id: int) -> HttpResponse:
    community = _community(request, community_slug)
    person = _account(community, user_id)
    form = ChoosePasswordForm(person, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            password_set_by_moderator(
                user=person,
                community=community,
                password=form.cleaned_data["new_password1"],
                by=request.user,
                ip_address=client_ip(request),
            )
            messages.success(
                request,
                _("The password of %(name)s is set. Tell it to them in person.")
                % {"name": person.get_full_name() or person.get_username()},
            )
            return redirect("roster:residents", community_slug=community.slug)
    return render(
        request, "roster/password.html", {"community": community, "person": person, "form": form}, status=400 if form.errors else 200
    )


# --- Grid workers and observers ----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def roster_staff(request: AuthenticatedHttpRequest, community_slug: str) -> HttpResponse:
    community = _community(request, community_slug)
    form = StaffAddForm(request.POST if request.method == "POST" else None, community=community)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            with refusal_on(form):
                staff_add(
                    community=community,
                    username=data["username"],
                    full_name=data["full_name"],
                    role=data["role"],
                    title=data["title"],
                    grid_ids=[g.pk for g in data["grids"]],
                    by=request.user,
                    ip_address=client_ip(request),
                )
                messages.success(request, _("%(name)s is added. Print them an invitation sheet to log in.") % {"name": data["full_name"]})
                return redirect("roster:staff", community_slug=community.slug)
        status = 400
    rows = selectors.staff_rows(community=community)
    grid_forms = {
        row.membership.pk: GridsForm(community=community, initial={"grids": list(row.membership.grids.all())})
        for row in rows
        if row.membership
    }
    context = {
        "community": community,
        "form": form,
        "rows": [(row, grid_forms.get(row.membership.pk if row.membership else 0)) for row in rows],
    }
    return render(request, "roster/staff.html", context, status=status)


def _staff_membership(community: Community, membership_id: int) -> Membership:
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, community=community)
    return membership


@login_required
@require_http_methods(["GET", "POST"])
def roster_staff_remove(request: AuthenticatedHttpRequest, community_slug: str, membership_id: int) -> HttpResponse:
    community = _community(request, community_slug)
    membership = _staff_membership(community, membership_id)
    if request.method == "POST" and request.POST.get("confirmed") == "1":
        try:
            staff_remove(membership=membership, by=request.user, ip_address=client_ip(request))
        except Refused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(
                request,
                _("%(name)s no longer has a role in this community.")
                % {"name": membership.user.get_full_name() or membership.user.get_username()},
            )
        return redirect("roster:staff", community_slug=community.slug)
    return render(request, "roster/staff_remove_confirm.html", {"community": community, "membership": membership})


@login_required
@require_http_methods(["POST"])
def roster_staff_grids(request: AuthenticatedHttpRequest, community_slug: str, membership_id: int) -> HttpResponse:
    community = _community(request, community_slug)
    membership = _staff_membership(community, membership_id)
    form = GridsForm(request.POST, community=community)
    if form.is_valid():
        staff_grids_set(
            membership=membership, grid_ids=[g.pk for g in form.cleaned_data["grids"]], by=request.user, ip_address=client_ip(request)
        )
        messages.success(
            request, _("The grids of %(name)s are saved.") % {"name": membership.user.get_full_name() or membership.user.get_username()}
        )
    else:
        messages.error(request, _("Those grids are not this community's."))
    return redirect("roster:staff", community_slug=community.slug)


# --- Logging in with a code (anyone) ----------------------------------------------------------

CODE_LOGIN = "agora_code_login"  # set in the session by a code login, until the person has chosen


@require_http_methods(["GET", "POST"])
def code_login(request: HttpRequest, code: str = "") -> HttpResponse:
    """GET (the QR code's address): the code in a form and one button, so opening the link
    (or a chat app's preview of it) uses nothing. POST: log in with it."""
    form = CodeForm(request.POST if request.method == "POST" else None, initial={"code": code})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            with refusal_on(form) as attempt:
                user_id = request.user.pk if request.user.is_authenticated else None
                person = invitation_redeem(typed=form.cleaned_data["code"], ip_address=client_ip(request), user_id=user_id)
                login(request, person, backend="django.contrib.auth.backends.ModelBackend")
                request.session[CODE_LOGIN] = True
                return redirect("code_welcome")
            status = attempt.status if attempt.refusal and attempt.refusal.code == "rate_limited" else 400
        else:
            status = 400
    return render(request, "roster/code_login.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def code_welcome(request: AuthenticatedHttpRequest) -> HttpResponse:
    """After a code: choose how to log in next time — a password, or a new sheet each time. Only
    right after a code login (a session flag): an open session alone must not change a password
    without the old one."""
    if not request.session.get(CODE_LOGIN):
        return redirect("home")
    form = ChoosePasswordForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if request.POST.get("choice") == "sheet":
            request.session.pop(CODE_LOGIN, None)
            messages.success(request, _("Fine: no password. When you are logged out, ask your residents' committee for a new sheet."))
            return redirect("home")
        if form.is_valid():
            with refusal_on(form):
                password_choose(user=request.user, password=form.cleaned_data["new_password1"], ip_address=client_ip(request))
                login(request, request.user, backend="django.contrib.auth.backends.ModelBackend")  # the password changed: keep this login
                request.session.pop(CODE_LOGIN, None)
                messages.success(
                    request,
                    _("Your password is set. Next time, log in with your login name %(name)s and this password.")
                    % {"name": request.user.get_username()},
                )
                return redirect("home")
    return render(request, "roster/welcome.html", {"form": form}, status=400 if form.errors else 200)
