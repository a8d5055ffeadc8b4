"""Pages for the archive, minutes, follow-up and the needs list. Thin: parse, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agora.errors import NotAllowed, Refused
from agora.models import Community
from sessions.minutes import exports, rules, selectors, services, voting_bridge
from sessions.minutes.forms import (
    ActionItemForm,
    ActionUpdateForm,
    ArchiveFilterForm,
    CorrectionForm,
    DraftForm,
    NeedForm,
    NeedToSessionForm,
    RatingForm,
)
from sessions.minutes.models import ActionItem, MinutesRecord, Need, NeedStatus, SatisfactionRating
from sessions.models import TopicSession

PAGE_SIZE = 20


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _refuse(request: HttpRequest, refusal: Refused) -> HttpResponse | None:
    """NotAllowed → 403 page with the sentence; other refusals → a flash message (caller re-renders)."""
    if isinstance(refusal, NotAllowed):
        return HttpResponseForbidden(str(refusal))
    messages.error(request, str(refusal))
    return None


# --- Archive -------------------------------------------------------------------------------


@require_GET
def archive_list(request: HttpRequest) -> HttpResponse:
    facets = selectors.archive_facets(user=request.user)
    form = ArchiveFilterForm(request.GET or None, facets=facets)
    form.is_valid()  # a bad field is dropped; the others still filter
    data = getattr(form, "cleaned_data", {})
    filters = selectors.ArchiveFilters(
        # Any slug filters (an unknown one finds nothing), so old links keep their meaning.
        community=(request.GET.get("community") or "")[:50],
        year=data.get("year"),
        month=data.get("month"),
        category=data.get("category") or "",
        outcome=data.get("outcome") or "",
        q=data.get("q") or "",
    )
    records, query = selectors.archive_records(user=request.user, filters=filters)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    satisfaction = selectors.satisfaction_by_session(session_ids=[r.session_id for r in rows])
    excerpts: dict[int, list[dict[str, Any]]] = {}
    if not query.empty:
        full = MinutesRecord.objects.in_bulk([r.pk for r in rows])
        excerpts = {pk: selectors.search_excerpts(record=rec, query=query) for pk, rec in full.items()}
    params = request.GET.copy()
    params.pop("page", None)
    filter_fields = []
    for name in ("community", "year", "month", "category", "outcome"):
        current = request.GET.get(name, "")
        filter_fields.append(
            {
                "name": name,
                "label": form.fields[name].label,
                "options": [(str(v), label, str(v) == current) for v, label in form.fields[name].choices],
            }
        )
    context = {
        "form": form,
        "filter_fields": filter_fields,
        "filters_active": any(request.GET.get(n) for n in ("community", "year", "month", "category", "outcome")),
        "page": page,
        "results": [
            {"record": r, "satisfaction": satisfaction.get(r.session_id), "excerpts": excerpts.get(r.pk, []), "title_segments": _title(r, query)}
            for r in rows
        ],
        "query": query,
        "querystring": params.urlencode(),
    }
    template = "minutes/partials/_results.html" if request.htmx and request.htmx.target == "archive-results" else "minutes/archive.html"
    return render(request, template, context)


def _title(record: MinutesRecord, query: Any) -> list[tuple[str, bool]]:
    from sessions.minutes.search import highlight

    return highlight(record.title, query) if not query.empty else [(record.title, False)]


def _readable_record(request: HttpRequest, record_id: int) -> MinutesRecord:
    record = get_object_or_404(MinutesRecord.objects.select_related("community", "corrects"), pk=record_id)
    if not rules.can_read_minutes(user=request.user, record=record):
        raise Http404  # members-only minutes do not reveal they exist
    return record


def _permalink(request: HttpRequest, record: MinutesRecord) -> str:
    return request.build_absolute_uri(reverse("minutes:detail", kwargs={"record_id": record.pk}))


def _detail_context(request: HttpRequest, record: MinutesRecord) -> dict[str, Any]:
    content = record.content
    items = list(ActionItem.objects.filter(session_id=record.session_id).select_related("owner").order_by("due_on", "pk"))
    satisfaction = selectors.satisfaction_by_item(item_ids=[i.pk for i in items])
    versions = selectors.versions(record=record)
    motions = {m["id"]: m for m in content.get("motions", [])}
    sections = [{"key": "general", "title": None, **content["general"]}] + [{"key": str(i["id"]), **i} for i in content["agenda"]]
    for section in sections:
        section["motions"] = [motions[i] for i in section.get("motion_ids", []) if i in motions]
    by_resolution = selectors.satisfaction_by_resolution(resolution_ids=[r["id"] for r in content.get("resolutions", [])])
    resolutions = [{**r, "satisfaction": by_resolution.get(r["id"])} for r in content.get("resolutions", [])]
    return {
        "record": record,
        "c": content,
        "resolutions": resolutions,
        "sections": sections,
        "versions": versions,
        "latest": versions[-1] if versions else record,
        "action_items": [{"item": i, "satisfaction": satisfaction.get(i.pk)} for i in items],
        "session_satisfaction": selectors.satisfaction_by_session(session_ids=[record.session_id]).get(record.session_id),
        "can_correct": rules.can_correct_minutes(user=request.user, record=record),
        "can_add_items": rules.can_add_action_item(user=request.user, session=record.session),
        "item_form": ActionItemForm(resolutions=content.get("resolutions", [])),
        "permalink": _permalink(request, record),
        "print_view": False,
    }


@require_GET
def minutes_detail(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _readable_record(request, record_id)
    return render(request, "minutes/detail.html", _detail_context(request, record))


@require_GET
def minutes_print(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _readable_record(request, record_id)
    return render(request, "minutes/print.html", _detail_context(request, record))


@require_GET
def minutes_by_hash(request: HttpRequest, content_hash: str) -> HttpResponse:
    record = MinutesRecord.objects.filter(content_hash=content_hash.lower()).only("pk").first()
    if record is None:
        raise Http404
    return redirect("minutes:detail", record_id=record.pk)


@require_GET
def minutes_for_session(request: HttpRequest, session_id: int) -> HttpResponse:
    """The newest published minutes of a session (the session page links here)."""
    record = selectors.current_only(MinutesRecord.objects.filter(session_id=session_id)).only("pk").first()
    if record is None:
        raise Http404
    return redirect("minutes:detail", record_id=_readable_record(request, record.pk).pk)


@require_GET
def minutes_json(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _readable_record(request, record_id)
    response = HttpResponse(
        exports.dumps(exports.minutes_json(record=record, permalink=_permalink(request, record))),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'inline; filename="minutes-{record.pk}.json"'
    return response


@require_GET
def minutes_markdown(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _readable_record(request, record_id)
    response = HttpResponse(
        exports.minutes_markdown(record=record, permalink=_permalink(request, record)), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="minutes-{record.pk}.md"'
    return response


@require_GET
def minutes_votes_csv(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _readable_record(request, record_id)
    # A BOM so that spreadsheet programs read the Chinese text as UTF-8.
    response = HttpResponse("\ufeff" + exports.votes_csv(record=record), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="minutes-{record.pk}-votes.csv"'
    return response


# --- Drafting, publishing, correcting ------------------------------------------------------


@login_required
def minutes_draft(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(TopicSession.objects.select_related("community"), pk=session_id)
    try:
        draft, content = services.minutes_draft_generate(session=session, by=request.user)
    except NotAllowed as refusal:
        return HttpResponseForbidden(str(refusal))
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("topic_sessions:detail", session_id=session.pk)
    form = DraftForm(
        request.POST or None, session=session, initial=DraftForm.initial_for(summaries=draft.summaries, visibility=draft.visibility)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.minutes_draft_save(
                session=session, by=request.user, summaries=form.summaries(), visibility=form.cleaned_data["visibility"]
            )
            if request.POST.get("publish") == "1":
                record = services.minutes_publish(session=session, by=request.user)
                messages.success(request, _("The minutes are published."))
                return redirect("minutes:detail", record_id=record.pk)
        except Refused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("The draft is saved."))
            return redirect("minutes:draft", session_id=session.pk)
    resolutions = content["resolutions"]
    return render(
        request,
        "minutes/draft.html",
        {
            "session": session,
            "form": form,
            "c": content,
            "sections": _preview_sections(content),
            "action_items": ActionItem.objects.filter(session=session).select_related("owner"),
            "item_form": ActionItemForm(resolutions=resolutions),
        },
    )


def _preview_sections(content: dict[str, Any]) -> list[dict[str, Any]]:
    motions = {m["id"]: m for m in content.get("motions", [])}
    sections = [{"key": "general", "title": None, **content["general"]}] + [{"key": str(i["id"]), **i} for i in content["agenda"]]
    for section in sections:
        section["motions"] = [motions[i] for i in section.get("motion_ids", []) if i in motions]
    return sections


@login_required
def minutes_correct(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _readable_record(request, record_id)
    if not rules.can_correct_minutes(user=request.user, record=record):
        return HttpResponseForbidden(_("Only a moderator of this community can correct the minutes."))
    content = record.content
    summaries = {"general": content["general"]["summary"], **{str(i["id"]): i["summary"] for i in content["agenda"]}}
    form = CorrectionForm(request.POST or None, session=record.session, initial=DraftForm.initial_for(summaries=summaries, visibility=""))
    if request.method == "POST" and form.is_valid():
        try:
            correction = services.minutes_correct(
                record=record, by=request.user, summaries=form.summaries(), reason=form.cleaned_data["reason"]
            )
        except Refused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("The correction is published; the original stays as it was."))
            return redirect("minutes:detail", record_id=correction.pk)
    return render(request, "minutes/correct.html", {"record": record, "form": form})


# --- Follow-up -----------------------------------------------------------------------------


@login_required
@require_POST
def action_item_create(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(TopicSession, pk=session_id)
    form = ActionItemForm(request.POST, resolutions=voting_bridge.session_votes(session=session)["resolutions"])
    if form.is_valid():
        try:
            services.action_item_create(
                session=session,
                by=request.user,
                what=form.cleaned_data["what"],
                responsible=form.cleaned_data["responsible"],
                due_on=form.cleaned_data["due_on"],
                resolution_id=form.cleaned_data.get("resolution"),
            )
        except Refused as refusal:
            if (response := _refuse(request, refusal)) is not None:
                return response
        else:
            messages.success(request, _("The action item was added."))
    else:
        messages.error(request, _("Say what is to be done and who is responsible."))
    return redirect(_next(request, reverse("minutes:draft", kwargs={"session_id": session.pk})))


def _item_or_404(request: HttpRequest, item_id: int) -> ActionItem:
    item = get_object_or_404(ActionItem.objects.select_related("session__community", "owner"), pk=item_id)
    record = selectors.current_only(MinutesRecord.objects.filter(session_id=item.session_id)).first()
    readable = (record is not None and rules.can_read_minutes(user=request.user, record=record)) or rules.can_add_action_item(
        user=request.user, session=item.session
    )
    if not readable:
        raise Http404
    item.minutes_record = record  # type: ignore[attr-defined]
    return item


@require_GET
def action_item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _item_or_404(request, item_id)
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
def action_item_update(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _item_or_404(request, item_id)
    form = ActionUpdateForm(request.POST)
    if form.is_valid():
        try:
            services.action_item_update(
                item=item,
                by=request.user,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                drop_reason=form.cleaned_data["drop_reason"],
            )
        except Refused as refusal:
            if (response := _refuse(request, refusal)) is not None:
                return response
        else:
            messages.success(request, _("The action item was updated."))
    else:
        messages.error(request, _("Choose a status."))
    return redirect("minutes:action_item", item_id=item.pk)


@login_required
@require_POST
def action_item_rate(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _item_or_404(request, item_id)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.satisfaction_rate(item=item, user=request.user, score=form.cleaned_data["score"])
        except Refused as refusal:
            if (response := _refuse(request, refusal)) is not None:
                return response
        else:
            messages.success(request, _("Thank you, your rating is saved."))
    else:
        messages.error(request, _("Choose a rating from 1 to 5."))
    return redirect("minutes:action_item", item_id=item.pk)


@login_required
@require_GET
def follow_up(request: HttpRequest) -> HttpResponse:
    from agora.roles import moderated_communities

    if not moderated_communities(user=request.user):
        return HttpResponseForbidden(_("Only moderators follow up action items."))
    return render(
        request,
        "minutes/follow_up.html",
        {"overdue": selectors.overdue_items(user=request.user), "open": selectors.open_items(user=request.user)},
    )


# --- Needs list ----------------------------------------------------------------------------


@login_required
@require_GET
def needs_index(request: HttpRequest) -> HttpResponse:
    communities = selectors.needs_communities(user=request.user)
    if len(communities) == 1:
        return redirect("needs:list", community_slug=communities[0].slug)
    return render(request, "minutes/needs_index.html", {"communities": communities})


@login_required
def needs_list(request: HttpRequest, community_slug: str) -> HttpResponse:
    community = get_object_or_404(Community, slug=community_slug)
    if not rules.can_view_needs(user=request.user, community_id=community.pk):
        raise Http404
    form = NeedForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            need = services.need_submit(
                community=community,
                by=request.user,
                text=data["text"],
                category=data["category"],
                building_id=data["building"].pk if data["building"] else None,
            )
        except Refused as refusal:
            if (response := _refuse(request, refusal)) is not None:
                return response
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("Thank you. Your need is on the list; neighbours can support it."))
            return redirect("needs:detail", need_id=need.pk)
    status = request.GET.get("status", NeedStatus.OPEN)
    if status not in NeedStatus.values and status != "all":
        status = NeedStatus.OPEN
    needs = selectors.needs_for(community=community, status="" if status == "all" else status)
    page = Paginator(needs, PAGE_SIZE).get_page(request.GET.get("page"))
    supported = set()
    if request.user.is_authenticated:
        from sessions.minutes.models import NeedSupport

        supported = set(NeedSupport.objects.filter(user=request.user, need__in=[n.pk for n in page]).values_list("need_id", flat=True))
    return render(
        request,
        "minutes/needs_list.html",
        {
            "community": community,
            "form": form,
            "page": page,
            "status": status,
            "statuses": NeedStatus.choices,
            "supported": supported,
            "can_submit": rules.can_submit_need(user=request.user, community_id=community.pk),
            "can_manage": rules.can_manage_needs(user=request.user, community_id=community.pk),
        },
    )


def _need_or_404(request: HttpRequest, need_id: int) -> Need:
    need = get_object_or_404(Need.objects.select_related("community", "building", "session", "merged_into__session"), pk=need_id)
    if not rules.can_view_needs(user=request.user, community_id=need.community_id):
        raise Http404
    return need


@login_required
@require_GET
def need_detail(request: HttpRequest, need_id: int) -> HttpResponse:
    need = _need_or_404(request, need_id)
    can_manage = rules.can_manage_needs(user=request.user, community_id=need.community_id)
    others = (
        Need.objects.filter(community=need.community, status=NeedStatus.OPEN).exclude(pk=need.pk).order_by("-created_at")[:200]
        if can_manage
        else []
    )
    return render(
        request,
        "minutes/need_detail.html",
        {
            "need": need,
            "support_count": need.supports.count(),
            "supporting": need.supports.filter(user=request.user).exists(),
            "can_support": rules.can_support_need(user=request.user, need=need),
            "can_manage": can_manage,
            "merge_candidates": others,
            "session_form": NeedToSessionForm(initial={"title": need.text[:120]}),
            "duplicates": need.duplicates.all(),
        },
    )


@login_required
@require_POST
def need_support(request: HttpRequest, need_id: int) -> HttpResponse:
    need = _need_or_404(request, need_id)
    supporting = request.POST.get("support") != "0"
    try:
        services.need_support(need=need, user=request.user, supporting=supporting)
    except Refused as refusal:
        if (response := _refuse(request, refusal)) is not None:
            return response
    else:
        messages.success(request, _("You support this need.") if supporting else _("You no longer support this need."))
    return redirect(_next(request, reverse("needs:detail", kwargs={"need_id": need.pk})))


@login_required
@require_POST
def need_merge(request: HttpRequest, need_id: int) -> HttpResponse:
    need = _need_or_404(request, need_id)
    into = Need.objects.filter(pk=request.POST.get("into") or 0, community=need.community).first()
    if into is None:
        messages.error(request, _("Choose another need of the same community to merge into."))
        return redirect("needs:detail", need_id=need.pk)
    try:
        services.need_merge(need=need, into=into, by=request.user)
    except Refused as refusal:
        if (response := _refuse(request, refusal)) is not None:
            return response
        return redirect("needs:detail", need_id=need.pk)
    messages.success(request, _("Merged. Its supporters now support this need."))
    return redirect("needs:detail", need_id=into.pk)


@login_required
@require_POST
def need_to_session(request: HttpRequest, need_id: int) -> HttpResponse:
    need = _need_or_404(request, need_id)
    form = NeedToSessionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the session a title and a start time."))
        return redirect("needs:detail", need_id=need.pk)
    try:
        session = services.need_to_session(
            need=need, by=request.user, title=form.cleaned_data["title"], starts_at=form.cleaned_data["starts_at"]
        )
    except Refused as refusal:
        if (response := _refuse(request, refusal)) is not None:
            return response
        return redirect("needs:detail", need_id=need.pk)
    messages.success(request, _("A draft topic session was created from this need."))
    return redirect("topic_sessions:edit", session_id=session.pk)

