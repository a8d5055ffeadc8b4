"""CSV cells that a spreadsheet reads as data, never as a formula (CSV injection).

Excel, LibreOffice and Numbers evaluate a cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, after a leading tab or carriage return, what follows): ``=HYPERLINK(…)`` becomes a
live link, ``+cmd|…`` may run a command. Such a text cell is written with a leading
apostrophe, as OWASP advises; spreadsheets show the text as typed. Numbers stay numbers.
Every CSV export writes through ``safe_writer`` (or ``spreadsheet_cell`` per value).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """A value safe to put in a CSV cell: text that could start a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Writes(Protocol):
    def write(self, s: str, /) -> Any: ...


class SafeWriter:
    """``csv.writer`` whose every text cell goes through ``spreadsheet_cell``."""

    def __init__(self, out: _Writes, **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([spreadsheet_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_writer(out: _Writes, **kwargs: Any) -> SafeWriter:
    return SafeWriter(out, **kwargs)
