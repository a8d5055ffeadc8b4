"""Print-ready A4 PDFs: one document from an HTML template, and thousands of pages stamped from one.

Two ways in, one layout engine (WeasyPrint, HTML and CSS) and one face (Noto Sans CJK SC, from
Debian's ``fonts-noto-cjk``), embedded as a subset so the file prints anywhere:

- ``render_pdf(template_name, context)`` → the bytes of one document: a notice, an announcement.
  Every page is laid out by WeasyPrint (about 15 pages a second: fine for a notice, not for a
  roster).
- ``PdfTemplate.from_template(template_name, context)`` lays out a page once, with empty *slots*
  (``<span data-slot="owner_name"></span>``); ``stream_pdf(template, fills)`` then writes one copy
  of it per fill, with the fill's text and QR codes set into the slots, as one PDF that is written
  as it goes: the laid-out page is in the file once (a form XObject every page draws), each page adds
  its own few hundred bytes, and memory holds a few integers per page whatever the count. This is
  how 10,000 personalised ballots take seconds, not minutes (docs/decisions.md, "Print-ready PDF";
  docs/performance.md, "Print-ready PDF").

A slot is any element with ``data-slot="name"``; its content box (give it a width and a height) is
where the value goes. A ``str`` is set on one line in the slot's font size, shrunk to fit its
width (``data-slot-align="center"`` or ``"right"`` to align), a ``Qr`` is drawn as a square QR
code as large as the box allows. The stamped text is in the same face as the page.

Resources: a template may use ``data:`` URLs and files under the project's static folders; anything
else (``http:``, other files) is refused, so text a person wrote cannot make the server fetch a URL.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import secrets
import shutil
import subprocess
import threading
import unicodedata
import zlib
from array import array
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import segno
from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from django.http import HttpRequest

log = logging.getLogger(__name__)

#: The face of every document (CSS ``font-family``) and of the stamped text.
FONT_FAMILY = "Noto Sans CJK SC"
# Where Debian's fonts-noto-cjk puts it; fontconfig is asked when it is elsewhere.
_FONT_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",)
# The mask of stamped QR codes. segno picks the best of the 8 masks by scoring each (11 ms a code,
# 110 s for 10,000 ballots); any mask is valid and decoded by every reader (tests decode them).
STAMP_QR_MASK = 0
_PT_PER_PX = 0.75  # CSS px (1/96 in) to PDF points (1/72 in)
_CHUNK = 256 * 1024  # bytes gathered before stream_pdf yields
_DARK_RUN = re.compile(b"[^\x00]+")  # dark modules side by side in a row of segno's matrix


class PdfError(RuntimeError):
    """The PDF cannot be made on this machine or from this template (a setup or programming error)."""


# --- QR codes -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Qr:
    """A slot value: draw ``text`` (a URL, a code) as a QR code in the slot."""

    text: str


def qr_svg(text: str, *, size: str = "30mm", border: int = 4) -> SafeString:
    """An inline SVG QR code for ``text``, ``size`` wide and high (any CSS length), for HTML and PDFs."""
    qr = segno.make(text, error="m", micro=False)
    svg = qr.svg_inline(scale=1, border=border, omitsize=True, svgclass="qr", lineclass=None)
    return mark_safe(svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1))  # noqa: S308 - segno's markup


def qr_png(text: str, *, scale: int = 8, border: int = 4) -> bytes:
    """A QR code for ``text`` as PNG, ``scale`` pixels a module."""
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def _qr_path(text: str, x: float, y: float, side: float, border: int = 4) -> bytes:
    """PDF path operators filling the dark modules of ``text``'s QR code in the square at (x, y)."""
    matrix = segno.make(text, error="m", micro=False, mask=STAMP_QR_MASK).matrix
    module = side / (len(matrix) + 2 * border)
    left, top = x + border * module, y + side - border * module
    out = []
    for row_index, row in enumerate(matrix):
        row_y = top - (row_index + 1) * module
        for run in _DARK_RUN.finditer(row):
            out.append(f"{left + run.start() * module:.3f} {row_y:.3f} {(run.end() - run.start()) * module:.3f} {module:.3f} re")
    return ("0 g\n" + "\n".join(out) + "\nf\n").encode()


# --- one document ---------------------------------------------------------------------------------


def _static_roots() -> list[Path]:
    roots = [Path(p).resolve() for p in getattr(settings, "STATICFILES_DIRS", [])]
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return roots


def _url_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    roots = _static_roots()

    class StaticOnly(URLFetcher):
        """``data:`` URLs and the project's static files; nothing from the network or elsewhere on disk."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("file://"):
                from urllib.parse import unquote, urlsplit

                path = Path(unquote(urlsplit(url).path)).resolve()
                if any(path.is_relative_to(root) for root in roots):
                    return super().fetch(url, headers)
            raise ValueError(f"PDF resources come from data: URLs and static files only, not {url[:80]!r}")

    return StaticOnly(allowed_protocols=("data", "file"), allow_redirects=False)


def _base_url() -> str:
    static = list(getattr(settings, "STATICFILES_DIRS", []))
    return (Path(static[0]).resolve().as_uri() + "/") if static else Path.cwd().as_uri() + "/"


def _weasy_document(html: str) -> Any:
    try:
        from weasyprint import HTML
        from weasyprint.text.fonts import FontConfiguration
    except OSError as exc:  # pango missing: `apt-get install libpango-1.0-0 libpangoft2-1.0-0`
        raise PdfError(f"WeasyPrint cannot load its libraries (README, Setup): {exc}") from exc
    fonts = FontConfiguration()
    return HTML(string=html, base_url=_base_url(), url_fetcher=_url_fetcher()).render(font_config=fonts), fonts


def html_to_pdf(html: str) -> bytes:
    """The PDF of an HTML document (``@page { size: A4 }`` and the rest in its CSS)."""
    document, _fonts = _weasy_document(html)
    return bytes(document.write_pdf())


def render_pdf(template_name: str, context: Mapping[str, Any] | None = None, *, request: HttpRequest | None = None) -> bytes:
    """The PDF of a Django template (extend ``pdf/base.html`` for A4, the CJK face and the margins)."""
    return html_to_pdf(render_to_string(template_name, dict(context or {}), request=request))


def pdf_response(pdf: bytes, filename: str, *, attachment: bool = False) -> HttpResponse:
    """An answer with a PDF (shown in the browser, or saved when ``attachment``), the name in any language."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(attachment, filename) or "inline"
    return response


# --- the CJK face of the stamped text ---------------------------------------------------------------


def _font_file() -> tuple[str, int]:
    """The file and the index in it of Noto Sans CJK SC Regular."""
    from fontTools.ttLib import TTCollection, TTFont

    candidates = [p for p in _FONT_FILES if Path(p).exists()]
    if not candidates and shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{file}", f"{FONT_FAMILY}:style=Regular"], capture_output=True, text=True, check=False)
        if found.stdout:
            candidates.append(found.stdout.strip())
    for path in candidates:
        faces = len(TTCollection(path, lazy=True).fonts) if path.lower().endswith(".ttc") else 1
        for index in range(faces):
            font = TTFont(path, fontNumber=index, lazy=True)
            if font["name"].getDebugName(1) == FONT_FAMILY and "CFF " in font:
                return path, index
    raise PdfError(f"The font {FONT_FAMILY} is not installed (Debian: apt-get install fonts-noto-cjk; README, Setup).")


class _Face:
    """Noto Sans CJK: a CID-keyed CFF font, so a character's code in the page is its CID (Identity-H)."""

    def __init__(self, path: str, index: int) -> None:
        from fontTools.ttLib import TTFont

        self.path, self.index = path, index
        font = TTFont(path, fontNumber=index, lazy=True)
        top = font["CFF "].cff.topDictIndex[0]
        if not hasattr(top, "ROS"):
            raise PdfError(f"{path} is not a CID-keyed font")
        self.registry, self.ordering, self.supplement = top.ROS
        # the PostScript name of this face (the collection's faces share one CFF program and its name)
        self.name = font["name"].getDebugName(6) or font["CFF "].cff.fontNames[0]
        scale = 1000 / font["head"].unitsPerEm
        self.cids = {cp: _cid_of(name) for cp, name in font.getBestCmap().items()}
        metrics = font["hmtx"].metrics
        self.widths = {_cid_of(name): round(advance * scale) for name, (advance, _lsb) in metrics.items()}
        head, os2 = font["head"], font["OS/2"]
        self.bbox = [round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)]
        self.ascent, self.descent = round(os2.sTypoAscender * scale), round(os2.sTypoDescender * scale)
        # the line's ascent and descent as Pango sets a line (hhea), to put stamped text where it would be
        hhea = font["hhea"]
        self.line_ascent, self.line_descent = hhea.ascent * scale, -hhea.descent * scale
        self.cap_height = round(getattr(os2, "sCapHeight", 700) * scale)

    def subset(self, cids: Iterable[int]) -> bytes:
        """The CFF program of only these CIDs (they keep their numbers)."""
        from fontTools import subset
        from fontTools.ttLib import TTFont

        font = TTFont(self.path, fontNumber=self.index)
        options = subset.Options()
        options.layout_features = []
        options.notdef_outline = True
        options.name_IDs = []
        subsetter = subset.Subsetter(options)
        subsetter.populate(glyphs=[".notdef"] + [f"cid{cid:05d}" for cid in sorted(cids) if cid])
        logging.getLogger("fontTools").setLevel(logging.WARNING)
        subsetter.subset(font)
        return bytes(font["CFF "].compile(font))


def _cid_of(glyph_name: str) -> int:
    return int(glyph_name[3:]) if glyph_name.startswith("cid") else 0


@lru_cache(maxsize=1)
def _face() -> _Face:
    return _Face(*_font_file())


# --- a page laid out once, stamped many times --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a value goes: page index, the content box in PDF points from the page's bottom left."""

    name: str
    page: int
    x: float
    y: float
    width: float
    height: float
    font_size: float
    align: str = "left"


@dataclass(frozen=True)
class _Page:
    width: float
    height: float
    content: bytes  # the laid-out page's content stream, decoded
    resources: Any  # its /Resources, a pypdf dictionary
    group: Any  # its /Group (transparency), or None


@dataclass(frozen=True)
class PdfTemplate:
    """One laid-out document (one or more pages) with named slots, to stamp with ``stream_pdf``."""

    pages: tuple[_Page, ...]
    slots: tuple[Slot, ...]
    reader: Any  # the pypdf reader of the laid-out document (its objects are copied once per output)

    @property
    def slot_names(self) -> frozenset[str]:
        return frozenset(slot.name for slot in self.slots)

    @classmethod
    def from_template(cls, template_name: str, context: Mapping[str, Any] | None = None) -> PdfTemplate:
        """Lay out a Django template once (extend ``pdf/base.html``; slots are ``data-slot`` elements)."""
        return cls.from_html(render_to_string(template_name, dict(context or {})))

    @classmethod
    def from_html(cls, html: str) -> PdfTemplate:
        from pypdf import PdfReader

        document, _fonts = _weasy_document(html)
        slots = []
        for index, page in enumerate(document.pages):
            page_height = page.height * _PT_PER_PX
            seen: set[int] = set()
            for box in page._page_box.descendants():  # WeasyPrint's layout boxes (pinned version)
                element = box.element
                if element is None or id(element) in seen or not element.get("data-slot"):
                    continue
                seen.add(id(element))
                height = box.height * _PT_PER_PX
                slots.append(
                    Slot(
                        name=element.get("data-slot"),
                        page=index,
                        x=box.content_box_x() * _PT_PER_PX,
                        y=page_height - box.content_box_y() * _PT_PER_PX - height,
                        width=box.width * _PT_PER_PX,
                        height=height,
                        font_size=box.style["font_size"] * _PT_PER_PX,
                        align=element.get("data-slot-align", "left"),
                    )
                )
        reader = PdfReader(io.BytesIO(document.write_pdf()))
        pages = []
        for page in reader.pages:
            box = page.mediabox
            contents = page.get_contents()
            pages.append(
                _Page(
                    width=float(box.width),
                    height=float(box.height),
                    content=contents.get_data() if contents is not None else b"",
                    resources=page.get("/Resources"),
                    group=page.get("/Group"),
                )
            )
        return cls(pages=tuple(pages), slots=tuple(slots), reader=reader)


def _pdf_string(text: str) -> bytes:
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


class _Stamper:
    """Sets slot text in the CJK face and remembers every CID used (for the subset and ToUnicode)."""

    def __init__(self, face: _Face) -> None:
        self.face = face
        self.used: dict[int, str] = {}
        self.missing: set[str] = set()

    def text(self, slot: Slot, value: str) -> bytes:
        value = "".join(char for char in " ".join(value.split()) if unicodedata.category(char)[0] != "C")  # no controls
        if not value:
            return b""
        face, cids = self.face, []
        for char in value:
            cid = face.cids.get(ord(char), 0)
            if cid == 0:
                self.missing.add(char)
            else:
                self.used.setdefault(cid, char)
            cids.append(cid)
        units = sum(face.widths.get(cid, 1000) for cid in cids)
        size = slot.font_size
        if units * size / 1000 > slot.width > 0:
            size = slot.width * 1000 / units
        width = units * size / 1000
        if slot.align == "center":
            x = slot.x + (slot.width - width) / 2
        elif slot.align == "right":
            x = slot.x + slot.width - width
        else:
            x = slot.x
        content = (face.line_ascent + face.line_descent) * size / 1000
        baseline = slot.y + (slot.height - content) / 2 + face.line_descent * size / 1000
        codes = "".join(f"{cid:04X}" for cid in cids)
        return f"BT /F0 {size:.2f} Tf 0 g {x:.2f} {baseline:.2f} Td <{codes}> Tj ET\n".encode()

    def qr(self, slot: Slot, value: Qr) -> bytes:
        side = min(slot.width, slot.height)
        x = slot.x + (slot.width - side) / 2
        y = slot.y + (slot.height - side) / 2
        return _qr_path(value.text, x, y, side)


class _Output:
    """Numbered objects written in order, their offsets kept for the cross-reference table."""

    def __init__(self) -> None:
        self.offsets = array("Q", [0])  # by object number: 8 bytes an object, whatever the page count
        self.position = 0
        self.next_number = 1
        self.buffer: list[bytes] = []
        self.buffered = 0

    def reserve(self) -> int:
        number = self.next_number
        self.next_number += 1
        self.offsets.append(0)
        return number

    def raw(self, data: bytes) -> None:
        self.buffer.append(data)
        self.buffered += len(data)
        self.position += len(data)

    def obj(self, number: int, body: bytes) -> None:
        self.offsets[number] = self.position
        self.raw(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def stream(self, number: int, data: bytes, extra: bytes = b"", *, compress: bool = True) -> None:
        if compress:
            data = zlib.compress(data, 6)
            extra += b"/Filter/FlateDecode"
        self.obj(number, b"<<%s/Length %d>>stream\n%s\nendstream" % (extra, len(data), data))

    def take(self, at_least: int = _CHUNK) -> bytes | None:
        if self.buffered < at_least or not self.buffer:
            return None
        chunk = b"".join(self.buffer)
        self.buffer, self.buffered = [], 0
        return chunk


class _Copier:
    """Copies objects of the laid-out PDF (fonts, images, graphics states) into the output, renumbered."""

    def __init__(self, output: _Output) -> None:
        self.output = output
        self.numbers: dict[int, int] = {}
        self.pending: list[Any] = []

    def ref(self, indirect: Any) -> int:
        if indirect.idnum not in self.numbers:
            self.numbers[indirect.idnum] = self.output.reserve()
            self.pending.append(indirect)
        return self.numbers[indirect.idnum]

    def serialize(self, obj: Any) -> bytes:
        from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

        if isinstance(obj, IndirectObject):
            return b"%d 0 R" % self.ref(obj)
        if isinstance(obj, DictionaryObject):
            return b"<<" + b"".join(self.serialize(k) + b" " + self.serialize(v) for k, v in obj.items() if k != "/Parent") + b">>"
        if isinstance(obj, ArrayObject):
            return b"[" + b" ".join(self.serialize(v) for v in obj) + b"]"
        out = io.BytesIO()
        obj.write_to_stream(out)
        return out.getvalue()

    def flush(self) -> None:
        from pypdf.generic import StreamObject

        while self.pending:
            indirect = self.pending.pop()
            obj = indirect.get_object()
            number = self.numbers[indirect.idnum]
            if isinstance(obj, StreamObject):
                data = obj._data  # the stream as stored (still encoded: images, fonts)
                head = b"".join(self.serialize(k) + b" " + self.serialize(v) for k, v in obj.items() if k != "/Length")
                self.output.stream(number, data, head, compress=False)
            else:
                self.output.obj(number, self.serialize(obj))


def stream_pdf(template: PdfTemplate, fills: Iterable[Mapping[str, str | Qr]], *, title: str = "", lang: str = "zh-CN") -> Iterator[bytes]:
    """The PDF of one copy of ``template`` per fill, in chunks of about 256 KiB, written as it goes.

    Each fill names every slot of the template (``""`` leaves one blank) with a ``str`` or a ``Qr``.
    Memory stays flat whatever the number of fills (a few integers per page); the font subset and
    the page list are written at the end. Give it a generator (a queryset's ``.iterator()``), not a
    list, to keep the data flat too.
    """
    face = _face()
    out, stamper = _Output(), _Stamper(face)
    catalog, page_tree, info, font, cid_font, descriptor, font_file, to_unicode = (out.reserve() for _ in range(8))
    out.raw(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    copier = _Copier(out)
    forms, page_heads = [], []
    for index, page in enumerate(template.pages):
        form = out.reserve()
        resources = copier.serialize(page.resources) if page.resources is not None else b"<<>>"
        group = b"/Group " + copier.serialize(page.group) if page.group is not None else b""
        bbox = b"[0 0 %.4f %.4f]" % (page.width, page.height)
        out.stream(form, page.content, b"/Type/XObject/Subtype/Form/BBox%s/Resources %s%s" % (bbox, resources, group))
        forms.append(form)
        page_heads.append(
            b"<</Type/Page/Parent %d 0 R/MediaBox%s/Resources<</XObject<</P%d %d 0 R>>/Font<</F0 %d 0 R>>>>/Contents "
            % (page_tree, bbox, index, form, font)
        )
    copier.flush()
    slots_by_page: list[list[Slot]] = [[] for _ in template.pages]
    for slot in template.slots:
        slots_by_page[slot.page].append(slot)
    names = template.slot_names

    kids = array("Q")
    for fill in fills:
        if fill.keys() != names:
            raise ValueError(f"fill the slots {sorted(names)}; got {sorted(fill.keys())}")
        for index, head in enumerate(page_heads):
            parts = [b"q /P%d Do Q\n" % index]
            for slot in slots_by_page[index]:
                value = fill[slot.name]
                parts.append(stamper.qr(slot, value) if isinstance(value, Qr) else stamper.text(slot, str(value)))
            page_number, contents = out.reserve(), out.reserve()
            out.stream(contents, b"".join(parts))
            out.obj(page_number, head + b"%d 0 R>>" % contents)
            kids.append(page_number)
        chunk = out.take()
        if chunk:
            yield chunk

    if stamper.missing:
        log.warning(
            "PDF: %d characters not in %s, printed as boxes: %s", len(stamper.missing), FONT_FAMILY, "".join(sorted(stamper.missing))[:50]
        )
    used = sorted(stamper.used)
    out.stream(font_file, face.subset(used), b"/Subtype/CIDFontType0C")
    out.stream(to_unicode, _to_unicode_cmap(stamper.used))
    subset_name = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(6)) + "+" + face.name
    widths = b" ".join(b"%d[%d]" % (cid, face.widths.get(cid, 1000)) for cid in used)
    out.obj(
        descriptor,
        b"<</Type/FontDescriptor/FontName/%s/Flags 4/FontBBox[%s]/ItalicAngle 0/Ascent %d/Descent %d/CapHeight %d/StemV 80/FontFile3 %d 0 R>>"
        % (subset_name.encode(), " ".join(map(str, face.bbox)).encode(), face.ascent, face.descent, face.cap_height, font_file),
    )
    out.obj(
        cid_font,
        b"<</Type/Font/Subtype/CIDFontType0/BaseFont/%s/CIDSystemInfo<</Registry(%s)/Ordering(%s)/Supplement %d>>/FontDescriptor %d 0 R/DW 1000/W[%s]>>"
        % (subset_name.encode(), face.registry.encode(), face.ordering.encode(), face.supplement, descriptor, widths),
    )
    out.obj(
        font,
        b"<</Type/Font/Subtype/Type0/BaseFont/%s/Encoding/Identity-H/DescendantFonts[%d 0 R]/ToUnicode %d 0 R>>"
        % (subset_name.encode(), cid_font, to_unicode),
    )
    out.obj(page_tree, b"<</Type/Pages/Count %d/Kids[%s]>>" % (len(kids), b" ".join(b"%d 0 R" % k for k in kids)))
    out.obj(catalog, b"<</Type/Catalog/Pages %d 0 R/Lang(%s)>>" % (page_tree, lang.encode("ascii")))
    created = datetime.now(UTC).strftime("D:%Y%m%d%H%M%SZ").encode()
    out.obj(info, b"<</Title %s/Producer(Agora)/CreationDate(%s)>>" % (_pdf_string(title), created))

    size = out.next_number
    xref_at = out.position
    rows = [b"xref\n0 %d\n0000000000 65535 f \n" % size]
    rows.extend(b"%010d 00000 n \n" % out.offsets[number] for number in range(1, size))
    document_id = secrets.token_hex(16).encode()
    rows.append(
        b"trailer\n<</Size %d/Root %d 0 R/Info %d 0 R/ID[<%s><%s>]>>\nstartxref\n%d\n%%%%EOF\n"
        % (size, catalog, info, document_id, document_id, xref_at)
    )
    out.raw(b"".join(rows))
    chunk = out.take(at_least=0)
    if chunk:
        yield chunk


def _to_unicode_cmap(used: Mapping[int, str]) -> bytes:
    lines = [
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        "/CIDSystemInfo<</Registry(Adobe)/Ordering(UCS)/Supplement 0>> def",
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        "1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    items = sorted(used.items())
    for start in range(0, len(items), 100):
        block = items[start : start + 100]
        lines.append(f"{len(block)} beginbfchar")
        lines.extend(f"<{cid:04X}> <{char.encode('utf-16-be').hex().upper()}>" for cid, char in block)
        lines.append("endbfchar")
    lines.append("endcmap CMapName currentdict /CMap defineresource pop end end")
    return "\n".join(lines).encode()


def write_pdf(template: PdfTemplate, fills: Iterable[Mapping[str, str | Qr]], target: BinaryIO, *, title: str = "") -> int:
    """Write ``stream_pdf`` to a file (a job's output); the number of bytes written."""
    written = 0
    for chunk in stream_pdf(template, fills, title=title):
        target.write(chunk)
        written += len(chunk)
    return written


async def in_thread(chunks: Iterator[bytes], *, ahead: int = 4) -> AsyncIterator[bytes]:
    """``chunks`` produced in a thread of their own, at most ``ahead`` waiting: for ASGI.

    Django's StreamingHttpResponse under ASGI reads a plain iterator into a list before sending
    (all of it in memory, and a worker thread held meanwhile); this keeps it streamed. The thread
    stops when the client goes away, and closes its database connections when it ends.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | Exception | None] = asyncio.Queue(maxsize=ahead)
    stop = threading.Event()

    def produce() -> None:
        from django.db import connections

        def put(item: bytes | Exception | None) -> bool:
            try:
                future = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
            except RuntimeError:  # the loop has closed: nobody reads any more
                return False
            while not stop.is_set():
                try:
                    future.result(timeout=1)
                    return True
                except TimeoutError:
                    continue
            future.cancel()
            return False

        try:
            for chunk in chunks:
                if stop.is_set() or not put(chunk):
                    return
            put(None)
        except Exception as exc:  # noqa: BLE001 - handed to the reader, which raises it
            put(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # a generator's finally blocks (a cursor, a file) run in its own thread
            connections.close_all()

    thread = threading.Thread(target=produce, name="pdf-stream", daemon=True)
    thread.start()
    try:
        while True:
            item = await queue.get()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        stop.set()


def streaming_pdf_response(chunks: Iterator[bytes], filename: str, *, attachment: bool = True) -> StreamingHttpResponse:
    """A streamed PDF answer (from ``stream_pdf``), streamed under ASGI too (``in_thread``)."""
    response = StreamingHttpResponse(in_thread(chunks), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(attachment, filename) or "attachment"
    return response


__all__: Sequence[str] = (
    "FONT_FAMILY",
    "PdfError",
    "PdfTemplate",
    "Qr",
    "Slot",
    "html_to_pdf",
    "in_thread",
    "pdf_response",
    "qr_png",
    "qr_svg",
    "render_pdf",
    "stream_pdf",
    "streaming_pdf_response",
    "write_pdf",
)
