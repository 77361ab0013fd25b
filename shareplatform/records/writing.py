"""Practitioners never lose writing: drafts saved as a note is written, forms posted after the
session ended kept for their author, and one-time tokens so a form posts once.

Drafts and kept forms are sealed like record bodies, through the access layer's writer, at the
label the form chose (or, while none is chosen or allowed, the highest the author may write on
the case: never lower than what the author meant). They are opened only for their author, and
only while the author may still write that kind of record at that label on the case; for anyone
else they do not exist (the same answer as for an unknown id).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..access.facts import Facts, relation
from ..access.vocabulary import Act, record_kind
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import case_ref
from ..context import Ctx
from ..db import utcnow
from ..domain.cases import RecordType
from ..domain.errors import DomainError, IntegrityFailure, NotPermitted
from ..domain.labels import Classification, Label
from .models import FormSubmission, KeptForm, RecordDraft
from .services import writable_labels

KEEP_FOR = timedelta(hours=2)  # a kept form waits this long for its author to sign in again
SUBMISSIONS_FOR = timedelta(days=1)  # how long Back + resubmit still lands on the first post
# what a draft or kept form holds of the record form (never the CSRF or submission token)
FIELDS = (
    "record_type",
    "occurred_on",
    "joint_agency",
    "classification",
    "caveats",
    "title",
    "body",
    "reason",
)
_DEFAULT_KIND = RecordType.CONTACT_OFFICE.value  # the kind decided while no type is chosen

Content = dict[str, str | list[str]]


def content_of(form: Mapping[str, object]) -> Content:
    """The record form's fields from posted data (a werkzeug MultiDict), as plain values."""
    out: Content = {}
    getlist = getattr(form, "getlist", None)
    for name in FIELDS:
        if name in ("caveats", "occurred_on") and getlist is not None:
            out[name] = [str(v)[:20] for v in getlist(name)][:10]
        elif name in form:
            out[name] = str(form[name])[:40_000]
    return out


def _record_type(content: Content) -> str:
    value = content.get("record_type")
    return value if isinstance(value, str) and value in RecordType.__members__ else ""


def _label(ctx: Ctx, case: Case, content: Content, record_type: str) -> Label:
    """The form's label when the author may write it here; else the highest they may."""
    allowed = writable_labels(ctx, case, record_type or _DEFAULT_KIND)
    if not allowed:
        raise NotPermitted("You cannot add records to this case.")
    chosen = content.get("classification")
    caveats = content.get("caveats") or []
    picked = next((c for c in allowed if c.marking == chosen), max(allowed))
    try:
        return Label.of(picked.marking, caveats if isinstance(caveats, list) else [caveats])
    except DomainError:
        return Label.of(picked.marking, [])


def _facts(ctx: Ctx, case: Case, record_type: str, label: Classification) -> Facts:
    return Facts.on(
        record_kind(record_type or _DEFAULT_KIND),
        label,
        relation(ctx.subject, case_ref(case)),
        author=True,
    )


def _event(action: str, object_type: str, case: Case, label: Classification) -> Event:
    return Event(
        action=action,
        object_type=object_type,
        outcome="done",
        label=label,
        case_id=str(case.id),
    )


def _seal(ctx: Ctx, case: Case, row: RecordDraft | KeptForm, content: Content, action: str) -> None:
    record_type = _record_type(content)
    label = _label(ctx, case, content, record_type)
    row.case_id = case.id
    row.author_id = ctx.subject.user_id
    row.record_type = record_type
    row.classification = label.classification.marking
    row.caveats = label.caveat_text()
    ctx.access.write(
        ctx.session,
        ctx.subject,
        row,
        {"content": json.dumps(content)},
        _facts(ctx, case, record_type, label.classification),
        _event(action, row.__tablename__.rstrip("s"), case, label.classification),
    )


def _open(ctx: Ctx, case: Case, row: RecordDraft | KeptForm, action: str) -> Content | None:
    """The author's content, decided and audited as writing it again would be; None when they
    may no longer write it (or it fails its integrity check)."""
    label = Classification.parse(row.classification)
    event = Event(
        action=action,
        object_type=row.__tablename__.rstrip("s"),
        outcome="allow",
        label=label,
        object_id=str(row.id),
        case_id=str(case.id),
    )
    try:
        plain = ctx.access.read_one(
            ctx.session,
            ctx.subject,
            row,
            _facts(ctx, case, row.record_type, label),
            event,
            act=Act.WRITE,
        )
    except (DomainError, IntegrityFailure):
        return None
    loaded = json.loads(plain.get("content") or "{}")
    return loaded if isinstance(loaded, dict) else None


# -- drafts -------------------------------------------------------------------------------------
def _my_draft(ctx: Ctx, case: Case) -> RecordDraft | None:
    return ctx.session.scalar(
        select(RecordDraft).where(
            RecordDraft.author_id == ctx.subject.user_id, RecordDraft.case_id == case.id
        )
    )


def save_draft(ctx: Ctx, case: Case, content: Content) -> datetime:
    """Replace the author's draft on this case with `content`; returns when it was saved."""
    discard_draft(ctx, case)
    draft = RecordDraft(id=uuid.uuid4(), saved_at=utcnow())
    _seal(ctx, case, draft, content, "record.draft_save")
    return draft.saved_at


def load_draft(ctx: Ctx, case: Case) -> tuple[Content, datetime] | None:
    draft = _my_draft(ctx, case)
    if draft is None:
        return None
    content = _open(ctx, case, draft, "record.draft_read")
    return (content, draft.saved_at) if content is not None else None


def discard_draft(ctx: Ctx, case: Case) -> None:
    ctx.session.execute(
        delete(RecordDraft).where(
            RecordDraft.author_id == ctx.subject.user_id, RecordDraft.case_id == case.id
        )
    )


# -- forms posted after the session ended -------------------------------------------------------
def keep_form(ctx: Ctx, case: Case, form_path: str, content: Content) -> uuid.UUID:
    """Keep a form its author posted after their session ended. `ctx` is the author's, built
    from the ended session by the sign-in hook (shareplatform/accounts/identity.py)."""
    now = utcnow()
    kept = KeptForm(id=uuid.uuid4(), form_path=form_path[:200], kept_at=now)
    kept.expires_at = now + KEEP_FOR
    _seal(ctx, case, kept, content, "record.form_kept")
    return kept.id


def restore_form(ctx: Ctx, case: Case, kept_id: str | None) -> Content | None:
    """A kept form of mine on this case, not expired; None for anything else, alike."""
    try:
        kid = uuid.UUID(str(kept_id))
    except ValueError:
        return None
    kept = ctx.session.scalar(
        select(KeptForm).where(
            KeptForm.id == kid,
            KeptForm.author_id == ctx.subject.user_id,
            KeptForm.case_id == case.id,
            KeptForm.expires_at > utcnow(),
        )
    )
    if kept is None:
        return None
    return _open(ctx, case, kept, "record.form_restore")


def discard_kept(ctx: Ctx, kept_id: str | None) -> None:
    try:
        kid = uuid.UUID(str(kept_id))
    except ValueError:
        return
    ctx.session.execute(
        delete(KeptForm).where(KeptForm.id == kid, KeptForm.author_id == ctx.subject.user_id)
    )


# -- one post per rendered form ----------------------------------------------------------------
def new_submission_token() -> str:
    return secrets.token_urlsafe(24)


def posted_with(ctx: Ctx, token: str | None) -> uuid.UUID | None:
    """The record my earlier post of this rendered form created, if any."""
    if not token:
        return None
    return ctx.session.scalar(
        select(FormSubmission.record_id).where(
            FormSubmission.user_id == ctx.subject.user_id,
            FormSubmission.token == token[:64],
            FormSubmission.created_at > utcnow() - SUBMISSIONS_FOR,
        )
    )


def claim_submission(ctx: Ctx, token: str | None, record_id: uuid.UUID) -> uuid.UUID | None:
    """Tie the token to the record just posted. When a concurrent post of the same form won
    (a double click), returns that post's record: the caller rolls its own back."""
    if not token:
        return None
    try:
        with ctx.session.begin_nested():
            ctx.session.add(
                FormSubmission(user_id=ctx.subject.user_id, token=token[:64], record_id=record_id)
            )
    except IntegrityError:
        return posted_with(ctx, token)
    return None


def sweep(session: Session, now: datetime) -> tuple[int, int]:
    """Housekeeping: kept forms past their expiry, and submission tokens no longer needed."""

    kept = session.execute(delete(KeptForm).where(KeptForm.expires_at <= now))
    tokens = session.execute(
        delete(FormSubmission).where(FormSubmission.created_at < now - SUBMISSIONS_FOR)
    )
    return int(getattr(kept, "rowcount", 0) or 0), int(getattr(tokens, "rowcount", 0) or 0)
