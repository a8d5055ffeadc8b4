"""Exports of published minutes: JSON (docs/minutes-schema.json), Markdown and CSV of vote results.

All three are made from the sealed content only, never from live data, so an export
says exactly what was published.
"""

from __future__ import annotations

import copy
import io
import json
from datetime import datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from agora.infra.csv_safe import safe_writer
from records.models import ActionStatus, MinutesRecord, Outcome, Visibility
from records.voting_bridge import option_label
from sessions.models import Category

EXPORT_FORMAT = "agora.minutes-export/1"


VOTERS_REDACTED = "minutes.motions[].result.voters"


def minutes_json(*, record: MinutesRecord, permalink: str, voter_names: bool) -> dict[str, Any]:
    """The record as sealed, plus how to check it: sha256(canonical_json(record)) == hash.

    Records sealed before version 2 (agora.minutes/1) hold the names of who voted what on
    open ballots, which the minutes page never shows. Unless ``voter_names`` (a member of the
    community, rules.can_see_voter_names) they are taken out and the export says so in
    ``redacted``: such an export cannot be re-hashed; ``verify_minutes`` checks the stored one.
    """
    document = record.document
    redacted: list[str] = []
    if not voter_names and any("voters" in (m.get("result") or {}) for m in document["minutes"].get("motions", [])):
        document = copy.deepcopy(document)
        for motion in document["minutes"]["motions"]:
            (motion.get("result") or {}).pop("voters", None)
        redacted.append(VOTERS_REDACTED)
    out = {
        "format": EXPORT_FORMAT,
        "id": record.pk,
        "hash": record.content_hash,
        "prev_hash": record.prev_hash,
        "permalink": permalink,
        "record": document,
    }
    if redacted:
        out["redacted"] = redacted
    return out


# Characters that Markdown would read as markup (emphasis, code, links and images, tables,
# strike-through): escaped, so user text shows as typed and never becomes a link or an image.
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]()!|~"})


def _md(text: str) -> str:
    """Plain user text inside Markdown: no raw HTML, no links or images, no accidental
    headings or lists. ``<`` is an entity, so no autolink (``<javascript:…>``) either."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").translate(_MD_SPECIAL)
    lines = []
    for line in escaped.split("\n"):
        if line[:1] in {"#", "-", "*", "+", ">", "=", "|"} or line[:2].rstrip(".").isdigit():
            line = "\\" + line
        lines.append(line)
    return "  \n".join(lines)


def _md_cell(text: str) -> str:
    """User text in a Markdown table cell: escaped, and on one line (a newline ends the row)."""
    return _md(" ".join(str(text).split()))


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _role(role: str) -> str:
    labels = {"moderator": _("Moderator"), "observer": _("Observer"), "resident": _("Resident"), "grid_worker": _("Grid worker")}
    return labels.get(role, role)


def speaker(message: dict[str, Any]) -> str:
    if message.get("author"):
        return message["author"]
    if message.get("building"):
        return _("Resident of %(building)s") % {"building": message["building"]}
    return _role(message.get("role", ""))


def motion_rows(content: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per motion option: the tallies the CSV and Markdown show."""
    rows = []
    for motion in content.get("motions", []):
        for option in motion.get("options", []):
            rows.append(
                {
                    "motion_id": motion["id"],
                    "motion": motion.get("text", ""),
                    "option": str(option_label(option)),
                    "online": option.get("online", 0),
                    "in_person": option.get("in_person", 0),
                    "total": option.get("total", 0),
                    "outcome": motion.get("outcome", ""),
                }
            )
    return rows


def votes_csv(*, record: MinutesRecord) -> str:
    out = io.StringIO()
    writer = safe_writer(out)
    writer.writerow(["motion_id", "motion", "option", "online", "in_person", "total", "outcome", "minutes_hash"])
    for row in motion_rows(record.content):
        writer.writerow(
            [
                row["motion_id"],
                row["motion"],
                row["option"],
                row["online"],
                row["in_person"],
                row["total"],
                row["outcome"],
                record.content_hash,
            ]
        )
    return out.getvalue()


def _motion_md(motion: dict[str, Any]) -> list[str]:
    lines = ["", f"**{_('Motion:')} {_md(motion.get('text', ''))}** — {_label(Outcome, motion.get('outcome', ''))}", ""]
    lines.append(f"| {_('Option')} | {_('Online')} | {_('In person')} | {_('Total')} |")
    lines.append("|---|---:|---:|---:|")
    for option in motion.get("options", []):
        lines.append(
            f"| {_md_cell(option_label(option))} | {option.get('online', 0)} | {option.get('in_person', 0)} | {option.get('total', 0)} |"
        )
    lines.append("")
    if motion.get("summary"):
        lines += [_md(motion["summary"]), ""]
    return lines


def when(iso: str | None) -> str:
    """A sealed UTC time shown in the site's time zone and the reader's format."""
    if not iso:
        return "—"
    value = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _field(label: str, value: str) -> str:
    """``label: value``, with the colon of the reader's language (full-width in Chinese)."""
    return _("%(label)s: %(value)s") % {"label": label, "value": value}


def minutes_markdown(*, record: MinutesRecord, permalink: str) -> str:
    c = record.content
    s = c["session"]
    motions = {m["id"]: m for m in c.get("motions", [])}
    out: list[str] = []
    heading = _("Correction") if c["kind"] == "correction" else _("Minutes")
    out.append(f"# {_field(heading, _md(s['title']))}")
    out.append("")
    out.append(f"- {_field(_('Community'), _md(c['community']['name']))}")
    out.append(f"- {_field(_('Category'), _label(Category, s['category']))}")
    out.append(f"- {_field(_('Held on'), when(s['starts_at']))}")
    if s.get("place"):
        out.append(f"- {_field(_('Place'), _md(s['place']))}")
    out.append(f"- {_field(_('Who may read'), _label(Visibility, c['visibility']))}")
    out.append(f"- {_field(_('Published'), when(c['published_at']) + ' · ' + _md(c['published_by']))}")
    out.append(f"- {_field(_('Permalink'), permalink)}")
    out.append(f"- SHA-256: `{record.content_hash}`")
    if c.get("corrects"):
        corrects = c["corrects"]
        out.append("- " + _field(_("Corrects"), f"`{corrects['hash']}` — {_md(corrects['reason'])}"))
    a = c["attendance"]
    out += ["", f"## {_('Attendance')}", ""]
    out.append(
        _("%(total)d people took part: %(online)d online, %(in_person)d in person (%(signed_up)d had signed up).")
        % {"total": a["total"], "online": a["online"], "in_person": a["in_person"], "signed_up": a["signed_up"]}
    )
    out.append("")
    out.append(f"| {_('Building')} | {_('Online')} | {_('In person')} |")
    out.append("|---|---:|---:|")
    for row in a["by_building"]:
        out.append(f"| {_md_cell(row['building']) or _('Staff and guests')} | {row['online']} | {row['in_person']} |")
    out += ["", f"## {_('Agenda')}", ""]
    for item in c["agenda"]:
        out.append(f"{item['position']}. {_md(item['title'])}")
    sections = [(_("General"), c["general"]), *((f"{i['position']}. {_md(i['title'])}", i) for i in c["agenda"])]
    for title, section in sections:
        if not (section.get("summary") or section["messages"] or section["hidden_count"] or section.get("motion_ids")):
            continue
        out += ["", f"## {title}", ""]
        if section.get("summary"):
            out += [f"**{_('Summary')}**", "", _md(section["summary"]), ""]
        for motion_id in section.get("motion_ids", []):
            if motion_id in motions:
                out += _motion_md(motions[motion_id])
        if section["messages"]:
            out += ["", f"**{_('Discussion')}**", ""]
            for m in section["messages"]:
                out.append(f"- #{m['seq']} {_field(_md(speaker(m)), _md(m['text']))}")
        if section["hidden_count"]:
            out.append("")
            out.append(_("(%(n)d message(s) hidden by a moderator are not shown.)") % {"n": section["hidden_count"]})
    if c.get("resolutions"):
        out += ["", f"## {_('Resolutions')}", ""]
        for r in c["resolutions"]:
            out.append(f"- {_md(r.get('text', ''))} — **{_label(Outcome, r.get('outcome', ''))}** {_md(r.get('summary', ''))}")
    if c.get("action_items"):
        out += ["", f"## {_('Action items')}", ""]
        for i in c["action_items"]:
            due = i["due_on"] or "—"
            out.append(f"- {_md(i['what'])} — {_md(i['responsible'])}, {_('due')} {due} ({_label(ActionStatus, i['status'])})")
    out.append("")
    return "\n".join(out)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
