"""The case page (header, team, MAPPA history, timeline) two ways, rendered by one template:

- `secure_page`: the real path: subject, case decision + audit, nominal decrypt, team, level
  history, the timeline (SQL filter, per-row decisions, one audit entry, decryption),
  render, commit;
- `plain_page`: the same queries against plaintext twin rows: no access, no audit, no crypto.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from shareplatform.accounts.models import User
from shareplatform.cases.models import Case, TeamMembership
from shareplatform.cases.services import LevelChange, NominalDetails, TeamMember, case_view
from shareplatform.domain.agencies import Role
from shareplatform.domain.cases import RecordType
from shareplatform.domain.labels import Classification, Label, highest
from shareplatform.records.services import RecordView, timeline

from .env import Env
from .twin import PlainAttendee, PlainLevelChange, PlainNominal, PlainRecord

_JINJA = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
TEMPLATE = _JINJA.get_template("case_page.html")


def secure_page(env: Env, username: str, case_id: uuid.UUID) -> str:
    platform = env.platform
    with platform.transaction() as session:
        ctx = env.ctx(session, username)
        view = case_view(ctx, case_id)
        tl = timeline(ctx, view.case)
        top = max(view.highest, tl.highest)
        return TEMPLATE.render(
            case=view.case,
            nominal=view.nominal,
            team=view.team,
            levels=view.levels,
            items=tl.items,
            highest=top,
        )


def plain_page(env: Env, username: str, case_id: uuid.UUID) -> str:
    with env.platform.db.transaction() as session:
        session.scalar(
            select(User).where(User.username == username)
        )  # the signed-in user, as above
        case = session.get(Case, case_id)
        assert case is not None
        pn = session.get(PlainNominal, case.nominal_id)
        assert pn is not None
        names = json.loads(pn.names)
        nominal = NominalDetails(
            pn.id,
            names["given"],
            names["family"],
            names["aliases"],
            pn.dob,
            json.loads(pn.identifiers),
            pn.classification,
        )
        team = [
            TeamMember(
                u.id,
                u.display_name,
                Role.parse(u.role).title,
                u.agency,
                m.capacity,
                m.panel,
                m.lead,
                m.start_date,
                m.end_date,
            )
            for m, u in session.execute(
                select(TeamMembership, User)
                .join(User, User.id == TeamMembership.user_id)
                .where(TeamMembership.case_id == case.id)
                .order_by(TeamMembership.start_date)
            ).all()
        ]
        levels = [
            LevelChange(c.level, c.effective_from, c.rationale, name)
            for c, name in session.execute(
                select(PlainLevelChange, User.display_name)
                .join(User, User.id == PlainLevelChange.set_by_id)
                .where(PlainLevelChange.case_id == case.id)
                .order_by(
                    PlainLevelChange.effective_from.desc(), PlainLevelChange.created_at.desc()
                )
            ).all()
        ]
        rows = session.scalars(
            select(PlainRecord)
            .where(PlainRecord.case_id == case.id)
            .order_by(PlainRecord.occurred_on.desc(), PlainRecord.created_at.desc())
            .limit(500)
        ).all()
        ids = [r.id for r in rows]
        authors = dict(
            session.execute(
                select(User.id, User.display_name).where(User.id.in_({r.author_id for r in rows}))
            ).all()
        )
        attendees: dict[uuid.UUID, list[str]] = {}
        superseded: dict[uuid.UUID, uuid.UUID] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            for rid, agency in session.execute(
                select(PlainAttendee.record_id, PlainAttendee.agency).where(
                    PlainAttendee.record_id.in_(part)
                )
            ):
                attendees.setdefault(rid, []).append(agency)
            for new_id, old_id in session.execute(
                select(PlainRecord.id, PlainRecord.supersedes_id).where(
                    PlainRecord.supersedes_id.in_(part)
                )
            ):
                superseded[old_id] = new_id
        items = [
            RecordView(
                r.id,
                r.case_id,
                RecordType(r.record_type),
                r.originating_agency,
                authors.get(r.author_id, "Unknown"),
                r.occurred_on,
                r.created_at,
                Label.of(r.classification, r.caveats),
                r.title,
                r.body,
                sorted(attendees.get(r.id, [])),
                r.supersedes_id,
                superseded.get(r.id),
                r.correction_reason,
            )
            for r in rows
        ]
        top = highest([Classification.OFFICIAL_SENSITIVE, *(i.label.classification for i in items)])
        return TEMPLATE.render(
            case=case, nominal=nominal, team=team, levels=levels, items=items, highest=top
        )
