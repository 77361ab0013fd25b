"""Exports: MAPPA minutes (print-ready HTML and CSV, capped at a label the exporter chooses) and the
inspection export of a case's decision record (JSON), with its offline verifier.

Every paragraph comes from the access layer's reads (decided and audited); the cap only removes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from flask import Response
from markupsafe import escape

from ..access.vocabulary import Act, Kind
from ..audit import proofs
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import get_case
from ..context import Ctx
from ..db import utcnow
from ..domain.labels import Caveat, Classification, Label
from ..web import csv_export, pdf
from . import signing
from .common import OS, conceal, demand, may
from .meetings import _meeting_and_case, meeting_view
from .reading import DecisionView, decision_log

FORMAT = "shareplatform-mappa-inspection/2"  # 2: audit entries as inclusion proofs


@dataclass(frozen=True)
class Paragraph:
    section: str
    label: Label
    text: str


@dataclass
class MinutesDocument:
    title: str
    case_reference: str
    cap: Classification
    exported_by: str
    exported_at: datetime
    paragraphs: list[Paragraph] = field(default_factory=list)
    withheld: int = 0  # paragraphs above the cap, left out

    @property
    def banner(self) -> Label:
        """The highest classification shown, with every caveat of what is shown."""
        top = max(
            (p.label.classification for p in self.paragraphs), default=Classification.OFFICIAL
        )
        caveats: frozenset[Caveat] = frozenset().union(*(p.label.caveats for p in self.paragraphs))
        return Label(top, caveats)


def export_caps(ctx: Ctx, case: Case) -> list[str]:
    """The labels the user may cap a minutes export at on this case (none: no export offered)."""
    return [
        c.marking
        for c in Classification
        if may(ctx, case, kind=Kind.MEETING, act=Act.EXPORT, label=c)
    ]


def may_export_decisions(ctx: Ctx, case: Case) -> bool:
    return may(ctx, case, kind=Kind.DECISION, act=Act.EXPORT, label=Classification.SECRET)


def minutes_document(ctx: Ctx, meeting_id: uuid.UUID | str, cap: str) -> MinutesDocument:
    """The minutes of one meeting, every paragraph labelled, nothing above `cap`."""
    meeting, case = _meeting_and_case(ctx, meeting_id)
    limit = Classification.parse(cap)
    demand(
        ctx,
        case,
        kind=Kind.MEETING,
        label=Classification.parse(limit.marking),
        act=Act.EXPORT,
        event=Event(
            action="mappa.minutes.export",
            object_type="meeting",
            outcome="allow",
            label=Classification.parse(limit.marking),
            object_id=str(meeting.id),
            case_id=str(case.id),
        ),
        message=f"You may not export these minutes at {limit.marking}.",
    )
    view = meeting_view(ctx, meeting.id)
    os_label, secret = Label.of(OS), Label.of("SECRET")
    paras: list[Paragraph] = [
        Paragraph(
            "Meeting",
            os_label,
            f"{view.meeting_type.title} on {view.held_on:%d %B %Y}, case {case.reference}.",
        ),
        Paragraph(
            "Meeting",
            os_label,
            f"Chair: {view.chair}." + (f" Co-chair: {view.co_chair}." if view.co_chair else ""),
        ),
    ]
    if view.next_review:
        paras.append(Paragraph("Meeting", os_label, f"Next review: {view.next_review:%d %B %Y}."))
    for a in view.attendees:
        paras.append(
            Paragraph(
                "Attendees",
                secret if a.closed_part else os_label,
                f"{a.name or 'Not named'}, {a.role.replace('_', ' ').title()} ({a.agency})"
                + (", attended the closed part" if a.closed_part else ""),
            )
        )
    paras += [Paragraph("Open part", os_label, t) for t in _split(view.open_minutes)]
    if view.closed_minutes and limit >= Classification.SECRET:
        paras += [Paragraph("Closed part", secret, t) for t in _split(view.closed_minutes)]
    if view.decisions and may(
        ctx, case, kind=Kind.DECISION, label=Classification.parse(limit.marking)
    ):
        for d in decision_log(ctx, case.id):
            if d.meeting_id == meeting.id:
                paras += _decision_paragraphs(d)
    shown = [p for p in paras if p.label.classification <= limit]
    doc = MinutesDocument(
        f"MAPPA minutes: {view.meeting_type.title}, {view.held_on:%d %B %Y}",
        case.reference,
        limit,
        ctx.subject.username,
        utcnow(),
        shown,
        len(paras) - len(shown),
    )
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="mappa.minutes.export",
            object_type="meeting",
            outcome="done",
            label=Classification.parse(doc.banner.classification.marking),
            object_id=str(meeting.id),
            case_id=str(case.id),
            detail={"cap": limit.marking, "paragraphs": len(shown), "withheld": doc.withheld},
        ),
    )
    return doc


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def _decision_paragraphs(d: DecisionView) -> list[Paragraph]:
    section = "Decision" + (" (corrected: see the later decision)" if d.superseded_by_id else "")
    out = [
        Paragraph(section, d.label, f"Decision: {d.decision}"),
        Paragraph(section, d.label, f"Rationale: {d.rationale}"),
    ]
    if d.correction_reason:
        out.append(
            Paragraph(section, d.label, f"Correction of an earlier decision: {d.correction_reason}")
        )
    if d.options:
        out.append(Paragraph(section, d.label, f"Options considered: {d.options}"))
    for disc in d.disclosures:
        out.append(
            Paragraph(
                section,
                disc.label,
                f"Rests on a disclosure by {disc.originator_title} "
                f"(reference {disc.reference}), received by {disc.received_by} "
                f"on {disc.received_at:%d %B %Y}.",
            )
        )
    if d.level is not None:
        out.append(
            Paragraph(section, Label.of(OS), f"MAPPA level set to {d.level}: {d.level_rationale}")
        )
    for a in d.actions:
        if a.description is not None:
            out.append(
                Paragraph(
                    "Actions",
                    a.label,
                    f"Action {a.position + 1} ({a.owner}, {a.owner_agency}, due "
                    f"{a.due_on:%d %B %Y}; {a.status.title.lower()}): {a.description}",
                )
            )
        if a.breakout is not None:
            out.append(
                Paragraph(
                    "Actions released",
                    a.breakout.label,
                    f"Action for {a.owner}, due {a.due_on:%d %B %Y}: {a.breakout.text}",
                )
            )
    return out


PRINT_CSS = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 11pt; line-height: 1.4;
  margin: 0 2cm; color: #0b0c0c; }
.banner { text-align: center; font-weight: bold; letter-spacing: .05em;
  border: 2px solid #0b0c0c; padding: 4px; margin: 1em 0; }
h1 { font-size: 16pt; } h2 { font-size: 13pt; margin-top: 1.2em; }
.marking { font-weight: bold; margin-right: .4em; white-space: nowrap; }
.meta { color: #505a5f; font-size: 9pt; }
@media print {
  @page { size: A4; margin: 2.2cm 1.5cm; }
  body { margin: 0; }
  .banner { position: fixed; left: 0; right: 0; margin: 0; background: #fff; }
  .banner-top { top: -1.6cm; } .banner-bottom { bottom: -1.6cm; }
  p { page-break-inside: avoid; } h2 { page-break-after: avoid; }
}
"""


def to_html(doc: MinutesDocument, nonce: str = "") -> str:
    banner = escape(str(doc.banner))
    sections: dict[str, list[str]] = {}  # in order of first appearance: one heading per section
    for p in doc.paragraphs:
        sections.setdefault(p.section, []).append(
            f'<p><span class="marking">[{escape(str(p.label))}]</span>{escape(p.text)}</p>'
        )
    body = [f"<h2>{escape(name)}</h2>" + "".join(paras) for name, paras in sections.items()]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{banner}: {escape(doc.title)}</title>"
        f"<style nonce='{escape(nonce)}'>{PRINT_CSS}</style></head><body>"
        f'<div class="banner banner-top" role="banner">{banner}</div>'
        f"<h1>{escape(doc.title)}</h1>"
        f'<p class="meta">Case {escape(doc.case_reference)}. '
        f"Exported by {escape(doc.exported_by)} on {doc.exported_at:%d %B %Y %H:%M} UTC, "
        f"including material up to {escape(doc.cap.marking)}.</p>"
        + "".join(body)
        + f'<div class="banner banner-bottom" role="contentinfo">{banner}</div></body></html>\n'
    )


def to_pdf_response(doc: MinutesDocument) -> Response:
    """The minutes as a PDF attachment, the banner in every page's header and footer."""
    marking = str(doc.banner)
    name = pdf.filename(f"mappa-minutes-{doc.case_reference}", marking)
    return pdf.pdf_response(pdf.render_pdf(to_html(doc), marking), name)


def to_csv(doc: MinutesDocument) -> str:
    """The minutes as CSV through the shared writer (its formula-injection guard covers every
    cell: shareplatform/web/csv_export.py)."""
    rows: list[list[str]] = [["banner", str(doc.banner), doc.title], ["section", "label", "text"]]
    rows += [[p.section, str(p.label), p.text] for p in doc.paragraphs]
    rows.append(["banner", str(doc.banner), ""])
    return csv_export.to_csv(rows)


# -- inspection export -----------------------------------------------------------------------------
def inspection_export(ctx: Ctx, case_id: uuid.UUID | str) -> dict[str, object]:
    """A case's decision record with what inspectors need to check it offline."""
    case = get_case(ctx, case_id)
    conceal(  # for the sterile corridor only: refused as for a case that does not exist
        ctx,
        case,
        kind=Kind.DECISION,
        label=Classification.SECRET,
        act=Act.EXPORT,
        event=Event(
            action="mappa.inspection.export",
            object_type="decision",
            outcome="allow",
            label=Classification.SECRET,
            object_id="",
            case_id=str(case.id),
        ),
    )
    signer = ctx.access.audit.signer
    views = sorted(decision_log(ctx, case.id), key=lambda v: v.created_at)
    # each decision's audit entry, proved into one signed checkpoint (signed now if none covers
    # them all yet, and witnessed when this export's transaction commits)
    newest = max((d.audit_seq for d in views), default=0)
    checkpoint = proofs.covering(ctx.session, newest) or ctx.access.audit.checkpoint(ctx.session)
    proved = proofs.inclusion_proofs(
        ctx.session, signer.public_key, [d.audit_seq for d in views], checkpoint
    )
    decisions = []
    top = Classification.OFFICIAL
    for d in views:
        top = max(top, d.label.classification)
        decisions.append(
            {
                "id": str(d.id),
                "label": str(d.label),
                "verified_on_export": d.verified,
                "problems": d.integrity,
                "supersedes": str(d.supersedes_id) if d.supersedes_id else None,
                "superseded_by": str(d.superseded_by_id) if d.superseded_by_id else None,
                "content": d.content,
                "content_hash": d.content_hash,
                "signature": d.signature,
                "key_id": d.key_id,
                "audit": {"seq": d.audit_seq, "proof": proved[d.audit_seq]},
                "actions": [
                    {
                        "id": str(a.id),
                        "content": a.content,
                        "content_hash": a.content_hash,
                        "breakout": None
                        if a.breakout is None
                        else {
                            "id": str(a.breakout.id),
                            "content": a.breakout.content,
                            "content_hash": a.breakout.content_hash,
                            "signature": a.breakout.signature,
                            "key_id": a.breakout.key_id,
                        },
                    }
                    for a in d.actions
                ],
            }
        )
    data: dict[str, object] = {
        "format": FORMAT,
        "banner": top.marking,
        "case": case.reference,
        "exported_at": signing.stamp(utcnow()),
        "exported_by": ctx.subject.username,
        "signing_key": {
            "algorithm": "Ed25519",
            "key_id": signer.key_id,
            "public_key": base64.b64encode(signer.public_key).decode(),
        },
        "decisions": decisions,
    }
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="mappa.inspection.export",
            object_type="decision",
            outcome="done",
            label=Classification.parse(top.marking),
            object_id="",
            case_id=str(case.id),
            detail={"decisions": [x["id"] for x in decisions]},
        ),
    )
    return data


@dataclass
class ExportCheck:
    ok: bool
    lines: list[str]


def verify_export(data: dict) -> ExportCheck:
    """Check an inspection export, or an audit inclusion proof (`audit prove`), offline: hashes
    recomputed, signatures checked (embedded key), audit entries proved into a signed tree."""
    lines: list[str] = []
    bad = 0
    if data.get("format") == proofs.FORMAT:
        return _verify_proof(data)
    try:
        if data.get("format") != FORMAT:
            return ExportCheck(False, [f"not an inspection export ({data.get('format')!r})"])
        key = data["signing_key"]
        public = base64.b64decode(key["public_key"])
        if hashlib.sha256(public).hexdigest()[:16] != key["key_id"]:
            return ExportCheck(False, ["the embedded public key does not match its key id"])
        lines.append(f"signing key {key['key_id']} (compare with the platform's published key id)")
        for d in data["decisions"]:
            problems = _check_decision(public, d)
            bad += bool(problems)
            lines.append(f"decision {d['id']}: " + ("; ".join(problems) if problems else "intact"))
    except (KeyError, TypeError, ValueError) as exc:
        return ExportCheck(False, [*lines, f"malformed export: {exc!r}"])
    return ExportCheck(bad == 0, lines)


def _check_decision(public: bytes, d: dict) -> list[str]:
    problems = []
    content = d["content"]
    if content is None:
        return ["content missing (it could not be opened on export)"]
    digest = bytes.fromhex(d["content_hash"])
    problem = signing.verify(public, "decision", content, digest, bytes.fromhex(d["signature"]))
    if problem:
        problems.append(problem)
    listed = {a["id"]: a["hash"] for a in content.get("actions", [])}
    for a in d["actions"]:
        if (
            a["content"] is not None
            and signing.content_hash(a["content"]).hex() != a["content_hash"]
        ):
            problems.append(f"action {a['id']}: content does not match its hash")
        if listed.get(a["id"]) != a["content_hash"]:
            problems.append(f"action {a['id']}: not the action the decision signed")
        bo = a.get("breakout")
        if bo and bo["content"] is not None:
            p = signing.verify(
                public,
                "breakout",
                bo["content"],
                bytes.fromhex(bo["content_hash"]),
                bytes.fromhex(bo["signature"]),
            )
            if p:
                problems.append(f"break-out {bo['id']}: {p}")
    if set(listed) != {a["id"] for a in d["actions"]}:
        problems.append("the exported actions differ from those the decision signed")
    problems += _check_audit_entry(public, d)
    return problems


def _check_audit_entry(public: bytes, d: dict) -> list[str]:
    """The decision's signing is entry `seq` of the audit log, under a signed checkpoint."""
    seq, proof = d["audit"]["seq"], d["audit"]["proof"]
    problems = [f"audit entry {seq}: {p}" for p in proofs.check_inclusion(proof, public)]
    if problems:
        return problems
    fields = proof["entry"]["fields"]
    detail = json.loads(fields["detail"])
    if (
        proof["entry"]["seq"] != seq
        or fields["object_id"] != d["id"]
        or fields["action"] != "mappa.decision.sign"
        or detail.get("content_hash") != d["content_hash"]
    ):
        problems.append(f"audit entry {seq} does not record the signing of this decision")
    return problems


def _verify_proof(data: dict) -> ExportCheck:
    problems = proofs.check_inclusion(data)
    if problems:
        return ExportCheck(False, problems)
    entry = data["entry"]["fields"]
    return ExportCheck(
        True,
        [
            f"signing key {data['key_id']} (compare with the platform's published key id)",
            f"audit entry {data['entry']['seq']} ({entry['action']} by {entry['actor']} at "
            f"{entry['at']}) is in the signed tree of {data['tree_size']} entries, "
            f"checkpoint signed at {data['checkpoint']['at']}",
        ],
    )
