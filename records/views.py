"""Pages for the archive, minutes, follow-up and the needs list. Thin: parse, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from agora.infra.forms import choice_pairs
from agora.infra.http import AuthenticatedHttpRequest, HtmxHttpRequest
from agora.infra.refusals import refusal_on, refusals_answered
from records import exports, rules, selectors, services, verification, voting_bridge
from records.access import access_record
from records.forms import ActionItemForm, ArchiveFilterForm, CorrectionForm, DraftForm
from records.models import ActionItem, MinutesRecord
from sessions.models import TopicSession

PAGE_SIZE = 20


# --- Archive -------------------------------------------------------------------------------


@require_GET
def archive_list(request: HtmxHttpRequest) -> HttpResponse:
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
    decisions = voting_bridge.final_decisions(user=request.user, community_slug=filters.community)
    filter_fields = []
    for name in ("community", "year", "month", "category", "outcome"):
        current = request.GET.get(name, "")
        filter_fields.append(
            {
                "name": name,
                "label": form.fields[name].label,
                # Built here, not in a template loop: a district has ~150 communities.
                "options_html": format_html_join(
                    "",
                    '<option value="{}"{}>{}</option>',
                    ((v, " selected" if str(v) == current else "", label) for v, label in choice_pairs(form, name)),
                ),
            }
        )
    context = {
        "form": form,
        "filter_fields": filter_fields,
        "filters_active": any(request.GET.get(n) for n in ("community", "year", "month", "category", "outcome")),
        "page": page,
        "results": [
            {
                "record": r,
                "satisfaction": satisfaction.get(r.session_id),
                "excerpts": [{**e, "html": marked(e["segments"])} for e in excerpts.get(r.pk, [])],
                "title_html": marked(_title(r, query)),
                "decisions": [d for d in decisions if r.session_id in d["session_ids"]],
            }
            for r in rows
        ],
        "query": query,
        "querystring": params.urlencode(),
        # Owners' decisions made final, beside the minutes (listed on the first page of an unfiltered list).
        "decisions": decisions
        if query.empty and page.number == 1 and not any(request.GET.get(n) for n in ("year", "month", "category", "outcome"))
        else [],
    }
    template = "minutes/partials/_results.html" if request.htmx and request.htmx.target == "archive-results" else "minutes/archive.html"
    return render(request, template, context)


def marked(segments: list[tuple[str, bool]]) -> str:
    """Highlighted text as HTML: every piece escaped, matches wrapped in <mark>."""
    return format_html_join("", "{}", ((format_html("<mark>{}</mark>", text) if hit else text,) for text, hit in segments))


def _title(record: MinutesRecord, query: Any) -> list[tuple[str, bool]]:
    from records.search import highlight

    return highlight(record.title, query) if not query.empty else [(record.title, False)]


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
        # A page never vouches for a record that no longer matches its seal.
        "verification_failed": verification.record_verify(record=record) is not None,
    }


@require_GET
def minutes_detail(request: HttpRequest, record_id: int) -> HttpResponse:
    record = access_record(request.user, record_id)
    return render(request, "minutes/detail.html", _detail_context(request, record))


@require_GET
def minutes_print(request: HttpRequest, record_id: int) -> HttpResponse:
    record = access_record(request.user, record_id)
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
    return redirect("minutes:detail", record_id=access_record(request.user, record.pk).pk)


@require_GET
def minutes_json(request: HttpRequest, record_id: int) -> HttpResponse:
    record = access_record(request.user, record_id)
    data = exports.minutes_json(
        record=record,
        permalink=_permalink(request, record),
        voter_names=rules.can_see_voter_names(user=request.user, record=record),
    )
    response = HttpResponse(exports.dumps(data), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="minutes-{record.pk}.json"'
    return response


@require_GET
def minutes_markdown(request: HttpRequest, record_id: int) -> HttpResponse:
    record = access_record(request.user, record_id)
    response = HttpResponse(
        exports.minutes_markdown(record=record, permalink=_permalink(request, record)), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="minutes-{record.pk}.md"'
    return response


@require_GET
def minutes_votes_csv(request: HttpRequest, record_id: int) -> HttpResponse:
    record = access_record(request.user, record_id)
    # A BOM so that spreadsheet programs read the Chinese text as UTF-8.
    response = HttpResponse("\ufeff" + exports.votes_csv(record=record), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="minutes-{record.pk}-votes.csv"'
    return response


# --- Drafting, publishing, correcting ------------------------------------------------------


def _session_page(request: HttpRequest, session_id: int) -> str:
    return reverse("topic_sessions:detail", kwargs={"session_id": session_id})


@login_required
@refusals_answered(back=_session_page)
def minutes_draft(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(TopicSession.objects.select_related("community"), pk=session_id)
    draft, content = services.minutes_draft_generate(session=session, by=request.user)
    form = DraftForm(
        request.POST or None, session=session, initial=DraftForm.initial_for(summaries=draft.summaries, visibility=draft.visibility)
    )
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            services.minutes_draft_save(
                session=session, by=request.user, summaries=form.summaries(), visibility=form.cleaned_data["visibility"]
            )
            if request.POST.get("publish") == "1" and request.POST.get("confirm_publish") != "1":
                # Publishing is final: it needs the box ticked (the draft is saved meanwhile, nothing typed is lost).
                messages.error(request, _("The draft is saved but not published: tick the box to confirm that the minutes are final."))
                return redirect(reverse("minutes:draft", kwargs={"session_id": session.pk}) + "#publish-confirm")
            if request.POST.get("publish") == "1":
                record = services.minutes_publish(session=session, by=request.user)
                messages.success(request, _("The minutes are published."))
                return redirect("minutes:detail", record_id=record.pk)
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
def minutes_correct(request: AuthenticatedHttpRequest, record_id: int) -> HttpResponse:
    record = access_record(request.user, record_id, correct=True)
    content = record.content
    summaries = {"general": content["general"]["summary"], **{str(i["id"]): i["summary"] for i in content["agenda"]}}
    form = CorrectionForm(request.POST or None, session=record.session, initial=DraftForm.initial_for(summaries=summaries, visibility=""))
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            correction = services.minutes_correct(
                record=record, by=request.user, summaries=form.summaries(), reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("The correction is published; the original stays as it was."))
            return redirect("minutes:detail", record_id=correction.pk)
    return render(request, "minutes/correct.html", {"record": record, "form": form})
