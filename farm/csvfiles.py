"""CSV files that Excel and WPS open with their Chinese intact: UTF-8 with a byte-order mark,
CRLF line ends, and no text cell that a spreadsheet would run as a formula; whole, or
streamed a chunk of rows at a time; and the response that sends either."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

# What makes Excel, WPS or LibreOffice read a cell as a formula (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


@dataclass(frozen=True)
class CsvFile:
    content: bytes
    filename: str  # in the reader's language
    fallback: str  # ASCII, for clients that ignore filename*

    @property
    def disposition(self) -> str:
        """RFC 6266: an ASCII name for old clients, the UTF-8 one for everyone else."""
        name = UNSAFE_IN_FILENAME.sub("_", self.filename)
        return f"attachment; filename=\"{self.fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


_FORMULA_FIRST = frozenset(FORMULA_STARTS)


def spreadsheet_row(row: Sequence[object]) -> list[object]:
    """Cells that a spreadsheet shows rather than runs: a text starting with = + - @, a tab or
    a carriage return gets a leading apostrophe; numbers are left as they are. (One list
    comprehension, no call per cell: it runs for every cell of 100,000-row files.)"""
    return ["'" + c if isinstance(c, str) and c[:1] in _FORMULA_FIRST else c for c in row]


def safe_cell_sql(column: str) -> str:
    """SQL for a text cell as spreadsheet_row makes it, for a CSV written by PostgreSQL
    (farm.sql.copy_csv): an apostrophe before a formula's first character, and empty (not "")
    when empty. `column` is SQL of our own, never a value."""
    starts = ", ".join("'" + c.replace("'", "''") + "'" for c in FORMULA_STARTS)
    return (
        f"NULLIF(CASE WHEN left({column}, 1) IN ({starts}) THEN '''' || {column}"
        f" ELSE {column} END, '')"
    )


def _lines(rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # the csv module ends lines with CRLF, as Excel expects
    writer.writerows(map(spreadsheet_row, rows))
    return buffer.getvalue()


def csv_lines(rows: Iterable[Sequence[object]]) -> bytes:
    """Rows as the middle of a streamed file (no byte-order mark, no header)."""
    return _lines(rows).encode("utf-8")


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """Numbers are written as they are; every text cell is made safe to open."""
    # The byte-order mark is what tells Excel and WPS that the file is UTF-8, not GBK.
    return _lines([header, *rows]).encode("utf-8-sig")


async def csv_chunks(
    header: Sequence[str], chunks: AsyncIterable[Sequence[Sequence[object]]]
) -> AsyncIterator[bytes]:
    """The same file as csv_bytes, made and sent a chunk of rows at a time: the byte-order
    mark and the header first, then each chunk as it is read from the database."""
    yield _lines([header]).encode("utf-8-sig")
    async for rows in chunks:
        if rows:
            yield _lines(rows).encode("utf-8")


async def csv_header(header: Sequence[str], body: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """The byte-order mark and the header, then CSV lines already written (by the database,
    see farm.sql.copy_csv) as they come."""
    yield _lines([header]).encode("utf-8-sig")
    async for chunk in body:
        yield chunk


@dataclass(frozen=True)
class CsvStream:
    chunks: AsyncIterator[bytes]
    filename: str
    fallback: str

    @property
    def disposition(self) -> str:
        return CsvFile(b"", self.filename, self.fallback).disposition


def csv_response(file: CsvFile | CsvStream) -> Response:
    headers = {"Content-Disposition": file.disposition}
    if isinstance(file, CsvStream):
        return StreamingResponse(file.chunks, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(file.content, media_type="text/csv; charset=utf-8", headers=headers)
