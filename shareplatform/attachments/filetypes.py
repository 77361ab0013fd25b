"""What a file is, judged from its content (magic bytes), never from its name or the browser's
word: PDF, PNG, JPEG, and Word or Excel documents (ZIP packages with [Content_Types].xml).
Anything else is refused, and so is a file whose content disagrees with its extension."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from ..domain.errors import InvalidValue

MAX_BYTES = 10 * 1024 * 1024  # 10 MiB per file
MAX_NAME = 120


@dataclass(frozen=True)
class FileType:
    code: str
    title: str
    mimetype: str
    extensions: tuple[str, ...]


PDF = FileType("pdf", "PDF", "application/pdf", (".pdf",))
PNG = FileType("png", "PNG image", "image/png", (".png",))
JPEG = FileType("jpeg", "JPEG image", "image/jpeg", (".jpg", ".jpeg"))
DOCX = FileType(
    "docx",
    "Word document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
XLSX = FileType(
    "xlsx",
    "Excel spreadsheet",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    (".xlsx",),
)
TYPES = {t.code: t for t in (PDF, PNG, JPEG, DOCX, XLSX)}
ACCEPT = ",".join(e for t in TYPES.values() for e in t.extensions)  # the file input's hint


def sniff(content: bytes) -> FileType | None:
    """The type the content itself declares, or None when it is none of the accepted ones."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"PK\x03\x04"):
        return _office(content)
    return None


def _office(content: bytes) -> FileType | None:
    """A Word or Excel package: only its directory is read, nothing is decompressed."""
    try:
        names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def clean_name(name: str | None) -> str:
    """The file's own name without any folder, reduced to safe characters."""
    base = re.split(r"[\\/]", name or "")[-1].strip()
    base = re.sub(r"[^A-Za-z0-9._ ()-]+", "_", base).strip(" .")
    if not base:
        raise InvalidValue("file", name, why="choose a file to upload")
    if len(base) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot else base[:MAX_NAME]
    return base


def check_file(name: str | None, content: bytes) -> tuple[str, FileType]:
    """The cleaned name and verified type of an upload; InvalidValue says what is wrong."""
    cleaned = clean_name(name)
    if not content:
        raise InvalidValue("file", cleaned, why="the selected file is empty")
    if len(content) > MAX_BYTES:
        raise InvalidValue("file", cleaned, why="the selected file must be smaller than 10MB")
    found = sniff(content)
    if found is None:
        raise InvalidValue(
            "file", cleaned, why="the selected file must be a PDF, PNG, JPEG, DOCX or XLSX"
        )
    ext = "." + cleaned.rpartition(".")[2].lower() if "." in cleaned else ""
    if ext not in found.extensions:
        raise InvalidValue(
            "file",
            cleaned,
            why=f"the file's content is a {found.title}: its name must end in "
            + " or ".join(found.extensions),
        )
    return cleaned, found
