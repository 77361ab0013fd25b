"""Attaching files to records and MAPPA decisions, listing and downloading them.

Every file is labelled (never lower than its parent, with the parent's caveats), sealed per level
like record bodies and read only through the access layer. What policy sees of an attachment is
its parent's facts at the attachment's label: the parent must be readable and the attachment's
label too. Anything the user may not see answers exactly as an unknown id ("Attachment not
found"), and every download, allowed or refused, is audited."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ..access.facts import Facts, relation
from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import case_ref
from ..context import Ctx
from ..domain.errors import InvalidValue, NotFound, NotPermitted
from ..domain.labels import Classification, Label
from ..mappa.models import MappaDecision
from ..records.models import Record
from ..records.services import record_facts
from .filetypes import TYPES, FileType, check_file
from .models import Attachment, AttachmentContent

PARENT_KINDS = ("record", "decision")


@dataclass(frozen=True)
class Parent:
    """A record or decision the user may read, and what policy sees of a file attached to it."""

    kind: str
    id: uuid.UUID
    case: Case
    label: Label
    facts_at: Callable[[Classification], Facts]


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content: bytes
    classification: str
    caveats: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttachmentItem:
    id: uuid.UUID
    label: Label
    file_type: FileType
    size: int
    created_at: datetime
    filename: str = ""  # empty when the name sits above the page's label (not opened here)


@dataclass
class AttachmentPanel:
    parent_kind: str
    parent_id: uuid.UUID
    items: list[AttachmentItem] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # labels the user may attach at


@dataclass(frozen=True)
class Download:
    filename: str  # with its classification in front: OFFICIAL-SENSITIVE_licence.pdf
    content: bytes
    file_type: FileType
    label: Label


def _uuid(value: uuid.UUID | str, what: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise NotFound(what) from None


def _event(action: str, object_id: object, case_id: object, label: Classification) -> Event:
    return Event(
        action=action,
        object_type="attachment",
        outcome="allow",
        label=label,
        object_id=str(object_id),
        case_id=str(case_id or ""),
    )


def _unknown(ctx: Ctx, action: str, object_id: object) -> NotFound:
    """Audit a request for something that does not exist; the answer for everything hidden."""
    ctx.access.record(
        ctx.session,
        ctx.subject,
        dataclasses.replace(
            _event(action, object_id, "", Classification.OFFICIAL),
            outcome="deny",
            reason="no such attachment",
        ),
    )
    return NotFound("attachment")


def _parent_row(ctx: Ctx, kind: str, parent_id: uuid.UUID) -> Record | MappaDecision | None:
    if kind == "record":
        return ctx.session.get(Record, parent_id)
    if kind == "decision":
        return ctx.session.get(MappaDecision, parent_id)
    return None


def _parent(
    ctx: Ctx,
    kind: str,
    parent_id: uuid.UUID | str,
    action: str,
    attachment_id: uuid.UUID | None = None,
) -> Parent:
    """The parent, decided readable (and audited under the attachment's id when there is one);
    NotFound as for an unknown id otherwise."""
    pid = _uuid(parent_id, "attachment")
    row = _parent_row(ctx, kind, pid)
    case = ctx.session.get(Case, row.case_id) if row is not None else None
    if row is None or case is None:
        raise _unknown(ctx, action, attachment_id or pid)
    if isinstance(row, Record):
        facts = record_facts(ctx, case, row)
    else:
        facts = Facts.on(
            Kind.DECISION,
            Classification.parse(row.classification),
            relation(ctx.subject, case_ref(case)),
        )
    ctx.access.require(
        ctx.session,
        ctx.subject,
        facts,
        Act.READ,
        dataclasses.replace(
            _event(action, attachment_id or pid, case.id, facts.label),
            detail={"parent": f"{kind}/{pid}"},
        ),
    )
    return Parent(kind, pid, case, row.label, lambda label: dataclasses.replace(facts, label=label))


def attachable_labels(ctx: Ctx, parent: Parent) -> list[str]:
    """Labels at or above the parent's at which the user may write the parent's kind."""
    return [
        m
        for m in Classification.markings()
        if Classification.parse(m) >= parent.label.classification
        and ctx.access.decide(
            ctx.session, ctx.subject, parent.facts_at(Classification.parse(m)), Act.WRITE
        ).allowed
    ]


def attach(
    ctx: Ctx, parent_kind: str, parent_id: uuid.UUID | str, data: NewAttachment
) -> Attachment:
    """Attach a file: type verified from its content, label no lower than the parent's, sealed
    through the access layer's writer (listing row, then content row)."""
    parent = _parent(ctx, parent_kind, parent_id, "attachment.upload")
    name, ftype = check_file(data.filename, data.content)
    try:
        chosen = Label.of(data.classification, list(data.caveats))
    except InvalidValue:
        raise InvalidValue(
            "classification", data.classification, why="choose the file's classification"
        ) from None
    if chosen.classification < parent.label.classification:
        raise InvalidValue(
            "classification",
            data.classification,
            why=f"must be {parent.label.classification.marking} or higher, as its parent is",
        )
    label = Label(chosen.classification, chosen.caveats | parent.label.caveats)
    level = label.classification
    facts = parent.facts_at(level)
    row = Attachment(
        id=uuid.uuid4(),
        case_id=parent.case.id,
        parent_kind=parent.kind,
        record_id=parent.id if parent.kind == "record" else None,
        decision_id=parent.id if parent.kind == "decision" else None,
        file_type=ftype.code,
        size=len(data.content),
        author_id=ctx.subject.user_id,
        classification=level.marking,
        caveats=label.caveat_text(),
    )
    event = _event("attachment.upload", row.id, parent.case.id, level)
    detail = {"parent": f"{parent.kind}/{parent.id}", "type": ftype.code, "size": row.size}
    ctx.access.write(
        ctx.session,
        ctx.subject,
        row,
        {"filename": name},
        facts,
        dataclasses.replace(event, detail=detail),
    )
    content = AttachmentContent(
        id=uuid.uuid4(),
        attachment_id=row.id,
        case_id=parent.case.id,
        classification=level.marking,
        caveats=label.caveat_text(),
    )
    ctx.access.write(
        ctx.session,
        ctx.subject,
        content,
        {"filename": name, "content": base64.b64encode(data.content).decode("ascii")},
        facts,
        dataclasses.replace(event, action="attachment.content", detail=detail),
    )
    ctx.session.flush()
    return row


def panel(
    ctx: Ctx, parent_kind: str, parent_id: uuid.UUID | str, page_label: str | Classification
) -> AttachmentPanel:
    """The files on a parent the user may read. Names are opened only up to the page's label, so
    the page's banner stays true; a readable file above it is listed by label alone."""
    parent = _parent(ctx, parent_kind, parent_id, "attachment.list")
    column = Attachment.record_id if parent.kind == "record" else Attachment.decision_id
    rows = list(
        ctx.session.scalars(
            select(Attachment).where(column == parent.id).order_by(Attachment.created_at)
        )
    )
    shown_up_to = Classification.parse(page_label)
    below = [r for r in rows if Classification.parse(r.classification) <= shown_up_to]
    above = [r for r in rows if Classification.parse(r.classification) > shown_up_to]
    out = AttachmentPanel(parent.kind, parent.id, labels=attachable_labels(ctx, parent))
    if below:
        opened = ctx.access.read(
            ctx.session,
            ctx.subject,
            below,
            lambda r: parent.facts_at(Classification.parse(r.classification)),
            _event("attachment.list", parent.id, parent.case.id, parent.label.classification),
        )
        out.items += [_item(r, plain.get("filename") or "") for r, plain in opened.rows]  # type: ignore[arg-type]
    out.items += [
        _item(r, "")
        for r in above
        if r.facts_intact
        and ctx.access.decide(
            ctx.session,
            ctx.subject,
            parent.facts_at(Classification.parse(r.classification)),
            Act.READ,
        ).allowed
    ]
    out.items.sort(key=lambda i: i.created_at)
    return out


def _item(row: Attachment, name: str) -> AttachmentItem:
    return AttachmentItem(
        row.id, row.label, TYPES[row.file_type], row.size, row.created_at, filename=name
    )


def download(ctx: Ctx, attachment_id: uuid.UUID | str) -> Download:
    """One file: the parent decided readable, then the file at its own label; both audited.
    Every refusal is NotFound, worded as for an id that does not exist."""
    aid = _uuid(attachment_id, "attachment")
    row = ctx.session.get(Attachment, aid)
    if row is None:
        raise _unknown(ctx, "attachment.download", aid)
    if not row.facts_intact:  # a parent pointer changed in the database: nobody is sent the file
        ctx.access.integrity_failures(
            ctx.session,
            ctx.subject,
            [row],
            _event(
                "attachment.download", row.id, row.case_id, Classification.parse(row.classification)
            ),
        )
        raise NotFound("attachment")
    parent_id = row.record_id if row.parent_kind == "record" else row.decision_id
    assert parent_id is not None
    try:
        parent = _parent(ctx, row.parent_kind, parent_id, "attachment.download", row.id)
    except NotFound:
        raise NotFound("attachment") from None
    found, keys = ctx.access.load_for_reading(
        ctx.session, select(AttachmentContent).where(AttachmentContent.attachment_id == row.id)
    )
    level = Classification.parse(row.classification)
    if (
        not found
        or found[0].classification != row.classification
        or not found[0].case_id == row.case_id == parent.case.id
    ):
        raise _unknown(ctx, "attachment.download", aid)  # content missing or relabelled
    try:
        plain = ctx.access.read_one(
            ctx.session,
            ctx.subject,
            found[0],
            parent.facts_at(level),
            _event("attachment.download", row.id, parent.case.id, level),
            keys=keys,
        )
    except NotPermitted:  # "further information is held" would reveal the file: not here
        raise NotFound("attachment") from None
    name = plain.get("filename") or "file"
    return Download(
        f"{level.marking}_{name}",
        base64.b64decode(plain.get("content") or ""),
        TYPES[row.file_type],
        row.label,
    )
