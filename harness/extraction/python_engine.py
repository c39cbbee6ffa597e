"""Text extraction with maintained Python libraries, one per format: the engine measured
against Apache Tika's parsers (docs/extraction.md). The format is told by the bytes
(magic numbers, the parts inside a zip), never by a Content-Type, which may lie.

    text, metadata = extract(data)
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any


class ExtractionError(Exception):
    """The file could not be read: corrupt, encrypted, or of no known format."""


def sniff(data: bytes) -> str:
    """The format, from the bytes."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if "mimetype" in names:
                    kind = archive.read("mimetype").decode(errors="replace").strip()
                    return {"application/vnd.oasis.opendocument.text": "odt"}.get(kind, "zip")
        except zipfile.BadZipFile:
            return "zip"
        for part, fmt in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
            if any(name.startswith(part) for name in names):
                return fmt
        return "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: legacy Office, or encrypted OOXML
        return "ole2"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "text"


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise ExtractionError("the PDF is encrypted")
    return "\n".join(page.extract_text() or "" for page in reader.pages)


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
# Where OOXML documents keep text: the body, and what python-docx's paragraphs miss
# (headers, footers, notes, tables are read in place, in document order).
DOCX_PARTS = re.compile(r"word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml")
PPTX_PARTS = re.compile(r"ppt/(slides/slide|notesSlides/notesSlide)(\d+)\.xml")


def _paragraphs(xml: bytes, ns: str) -> list[str]:
    """Each paragraph's text (runs joined; tabs and breaks kept as whitespace)."""
    from lxml import etree

    lines = []
    for paragraph in etree.fromstring(xml).iter(f"{ns}p"):
        pieces = []
        for node in paragraph.iter(f"{ns}t", f"{ns}tab", f"{ns}br"):
            pieces.append(node.text or "" if node.tag == f"{ns}t" else " ")
        lines.append("".join(pieces))
    return lines


def _ooxml(data: bytes, parts: re.Pattern[str], ns: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if parts.fullmatch(n)]
        names.sort(key=lambda n: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", n)])
        return "\n".join(line for n in names for line in _paragraphs(archive.read(n), ns))


def _docx(data: bytes) -> str:
    return _ooxml(data, DOCX_PARTS, W)


def _pptx(data: bytes) -> str:
    return _ooxml(data, PPTX_PARTS, A)


def _xlsx(data: bytes) -> str:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            lines.append("\t".join("" if v is None else str(v) for v in row))
    book.close()
    return "\n".join(lines)


def _odt(data: bytes) -> str:
    from odf import teletype, text
    from odf.opendocument import load

    document = load(io.BytesIO(data))
    parts = document.getElementsByType(text.H) + document.getElementsByType(text.P)
    return "\n".join(teletype.extractText(part) for part in parts)


def _html(data: bytes) -> str:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(data.decode("utf-8", errors="replace"))
    for node in tree.css("script, style"):
        node.decompose()
    return tree.body.text(separator="\n") if tree.body is not None else ""


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _ole2(data: bytes) -> str:
    raise ExtractionError("an OLE2 file: a legacy Office document, or a password-protected one")


EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    "pdf": _pdf,
    "docx": _docx,
    "xlsx": _xlsx,
    "pptx": _pptx,
    "odt": _odt,
    "html": _html,
    "text": _text,
    "ole2": _ole2,
}


def extract(data: bytes) -> tuple[str, dict[str, Any]]:
    fmt = sniff(data)
    if fmt not in EXTRACTORS:
        raise ExtractionError(f"no extractor for a {fmt} file")
    try:
        text = EXTRACTORS[fmt](data)
    except ExtractionError:
        raise
    except Exception as exc:  # each library has its own errors for a broken file
        raise ExtractionError(
            f"the {fmt} file cannot be read: {type(exc).__name__}: {exc}"
        ) from None
    return text, {"format": fmt, "bytes": len(data)}
