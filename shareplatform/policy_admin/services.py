"""Policy administration use cases: the readable policy, drafts, review (diff, what-if, guardrails),
approval by a second administrator, apply, versions and restore.

Every function takes a Ctx, checks the acting user's permission through the access layer (audited)
and does its work in the caller's transaction. Refusals (lockout, missing approval) are returned as
outcomes with a deny audit entry, so the refusal itself is committed and nothing else is written.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access import policy_files, store
from ..access.enforcer import PolicyEngine
from ..access.facts import Facts, Subject, SubjectFacts
from ..access.kernel import AccessLayer
from ..access.policy_files import Rule
from ..access.vocabulary import Act, Kind
from ..accounts.models import User
from ..audit.log import Event
from ..context import Ctx
from ..db import utcnow
from ..domain.agencies import Agency, Role
from ..domain.errors import InvalidValue, NotFound, NotPermitted
from ..domain.labels import Classification
from ..domain.vetting import Vetting, VettingStatus
from . import duties, guardrails, whatif
from .models import ChangeLine, ChangeSet, PolicyVersion

POLICY = Classification.OFFICIAL  # the label of the policy itself (it holds no case content)


# -- permissions ----------------------------------------------------------------------------------
def _require(
    ctx: Ctx, act: str, action: str, object_id: str = "", detail: dict[str, object] | None = None
) -> None:
    ctx.access.require(
        ctx.session,
        ctx.subject,
        Facts(Kind.POLICY, POLICY),
        Act(act),
        Event(
            action=action,
            object_type="policy",
            outcome="allow",
            label=POLICY,
            object_id=object_id,
            detail=detail or {},
        ),
        hide=False,
    )


def may(ctx: Ctx, act: str) -> bool:
    return ctx.access.decide(ctx.session, ctx.subject, Facts(Kind.POLICY, POLICY), Act(act)).allowed


# -- rules as stored and shown --------------------------------------------------------------------
def rule_json(rules: list[Rule]) -> str:
    return json.dumps([[r.ptype, list(r.values), r.reason] for r in rules])


def rules_from_json(text: str) -> list[Rule]:
    return [Rule(p, tuple(v), reason) for p, v, reason in json.loads(text)]


def key_of(rule: Rule) -> str:
    """A stable identifier for a line in forms and change sets."""
    return json.dumps(list(rule.key()))


def digest(rules: list[Rule]) -> str:
    return hashlib.sha256(rule_json(rules).encode()).hexdigest()


def approval_digest(live: list[Rule], draft: list[Rule]) -> str:
    """What an approval covers: this draft over this live policy. A restore's draft is fixed, so
    binding the live policy too means an approval lapses when the policy moves on under it."""
    return hashlib.sha256(f"{digest(live)}:{digest(draft)}".encode()).hexdigest()


def parse_line(ptype: str, values: list[str] | tuple[str, ...], reason: str) -> Rule:
    rule = Rule(ptype.strip(), tuple(v.strip() for v in values), reason.strip())
    problem = policy_files.check(rule)
    if problem:
        raise InvalidValue("policy line", rule.describe(), why=problem)
    if not rule.reason:
        raise InvalidValue("reason", "", why="every policy line needs its reason")
    return rule


@dataclass(frozen=True)
class PolicyLine:
    position: int
    rule: Rule
    key: str
    roles: tuple[str, ...]  # the roles this line applies to (through groups and wildcards)

    @property
    def is_group(self) -> bool:
        return self.rule.ptype == "g"


def _members(rules: list[Rule]) -> dict[str, set[str]]:
    """Roles in each role-or-group name, following g lines transitively."""
    out: dict[str, set[str]] = {}
    for role in Role:
        for name in guardrails.role_and_groups(rules, role):
            out.setdefault(name, set()).add(role.value)
    return out


def policy_table(
    ctx: Ctx,
    *,
    agency: str = "",
    role: str = "",
    label: str = "",
    action: str = "",
    kind: str = "",
) -> list[PolicyLine]:
    """The live policy as readable lines, filtered by agency, role, label, action and kind."""
    _require(ctx, "read", "policy.view")
    rules = store.load_rules(ctx.session)
    members = _members(rules)
    every = tuple(r.value for r in Role)
    want_roles: set[str] | None = None
    if agency:
        want_roles = {r.value for r in Role if r.info.agency is Agency.parse(agency)}
    if role:
        picked = {Role.parse(role).value}
        want_roles = picked if want_roles is None else want_roles & picked
    out = []
    for position, rule in enumerate(rules):
        subject = rule.values[0]
        roles = every if subject == "*" else tuple(sorted(members.get(subject, set())))
        if want_roles is not None and not want_roles & set(roles):
            continue
        if rule.ptype == "p":
            _, obj, act, lbl, _, _ = rule.values
            if label and lbl not in ("*", label):
                continue
            if action and act not in ("*", action):
                continue
            if kind and obj != kind and not (obj.endswith("*") and kind.startswith(obj[:-1])):
                continue
        elif label or action or kind:
            continue
        out.append(PolicyLine(position, rule, key_of(rule), roles))
    return out


# -- drafts ---------------------------------------------------------------------------------------
def _change_set(ctx: Ctx, change_set_id: uuid.UUID | str) -> ChangeSet:
    try:
        cs = ctx.session.get(ChangeSet, uuid.UUID(str(change_set_id)))
    except ValueError:
        cs = None
    if cs is None:
        raise NotFound("change set")
    return cs


def _editable(ctx: Ctx, change_set_id: uuid.UUID | str, action: str) -> ChangeSet:
    cs = _change_set(ctx, change_set_id)
    _require(ctx, "edit", action, str(cs.id))
    if cs.status != "draft":
        raise InvalidValue("change set", cs.status, why="only a draft can be changed")
    if cs.author_id != ctx.subject.user_id:
        raise NotPermitted("only the author of a draft may change it")
    if cs.restore_of is not None:
        raise InvalidValue(
            "change set",
            "restore",
            why="a restore is a whole earlier version; draft a new change instead",
        )
    # any edit voids an earlier approval: the approver approved a different draft
    cs.approved_by_id, cs.approval_reason, cs.approved_at, cs.approved_digest = (
        None,
        None,
        None,
        None,
    )
    return cs


def start_change_set(ctx: Ctx, description: str) -> ChangeSet:
    if not description.strip():
        raise InvalidValue("description", description, why="describe what the change is for")
    _require(ctx, "edit", "policy.draft")
    cs = ChangeSet(
        id=uuid.uuid4(),
        description=description.strip(),
        status="draft",
        author_id=ctx.subject.user_id,
    )
    ctx.session.add(cs)
    ctx.session.flush()
    return cs


def add_line(
    ctx: Ctx, change_set_id: uuid.UUID | str, ptype: str, values: list[str], reason: str
) -> ChangeLine:
    cs = _editable(ctx, change_set_id, "policy.draft.add")
    rule = parse_line(ptype, values, reason)
    op = ChangeLine(
        change_set_id=cs.id,
        op="add",
        ptype=rule.ptype,
        values=json.dumps(list(rule.values)),
        reason=rule.reason,
    )
    return _add_op(ctx, cs, op)


def _add_op(ctx: Ctx, cs: ChangeSet, op: ChangeLine) -> ChangeLine:
    """Keep the operation only if the draft still makes sense with it (refuse now, not at apply)."""
    with ctx.session.begin_nested():
        ctx.session.add(op)
        ctx.session.flush()
        draft_rules(ctx.session, cs)
    return op


def change_line(
    ctx: Ctx,
    change_set_id: uuid.UUID | str,
    target: str,
    ptype: str,
    values: list[str],
    reason: str,
) -> ChangeLine:
    cs = _editable(ctx, change_set_id, "policy.draft.change")
    rule = parse_line(ptype, values, reason)
    op = ChangeLine(
        change_set_id=cs.id,
        op="change",
        target=target,
        ptype=rule.ptype,
        values=json.dumps(list(rule.values)),
        reason=rule.reason,
    )
    return _add_op(ctx, cs, op)


def remove_line(ctx: Ctx, change_set_id: uuid.UUID | str, target: str) -> ChangeLine:
    cs = _editable(ctx, change_set_id, "policy.draft.remove")
    return _add_op(ctx, cs, ChangeLine(change_set_id=cs.id, op="remove", target=target))


def undo_op(ctx: Ctx, change_set_id: uuid.UUID | str, op_id: int) -> None:
    cs = _editable(ctx, change_set_id, "policy.draft.undo")
    op = ctx.session.get(ChangeLine, op_id)
    if op is None or op.change_set_id != cs.id:
        raise NotFound("change")
    ctx.session.delete(op)
    ctx.session.flush()


def discard(ctx: Ctx, change_set_id: uuid.UUID | str) -> None:
    cs = _change_set(ctx, change_set_id)
    _require(ctx, "edit", "policy.discard", str(cs.id))
    if cs.status != "draft":
        raise InvalidValue("change set", cs.status, why="only a draft can be discarded")
    cs.status = "discarded"


def ops(session: Session, cs: ChangeSet) -> list[ChangeLine]:
    return list(
        session.scalars(
            select(ChangeLine).where(ChangeLine.change_set_id == cs.id).order_by(ChangeLine.id)
        )
    )


def draft_rules(session: Session, cs: ChangeSet) -> list[Rule]:
    """The policy as it would be: the live lines with this draft's operations applied in order."""
    if cs.restore_of is not None:
        version = session.get(PolicyVersion, cs.restore_of)
        if version is None:
            raise NotFound("policy version")
        return rules_from_json(version.rules)
    rules = store.load_rules(session)
    for op in ops(session, cs):
        index = None
        if op.target is not None:
            keys = [key_of(r) for r in rules]
            if op.target not in keys:
                raise InvalidValue(
                    "policy line",
                    _show(op.target),
                    why="it is no longer in the live policy (changed since this draft began)",
                )
            index = keys.index(op.target)
        new = (
            Rule(op.ptype or "", tuple(json.loads(op.values or "[]")), op.reason or "")
            if op.op != "remove"
            else None
        )
        if new is not None and new.key() in {r.key() for i, r in enumerate(rules) if i != index}:
            raise InvalidValue(
                "policy line", new.describe(), why="the policy already has this line"
            )
        if op.op == "add":
            assert new is not None
            rules = _insert(rules, new)
        elif op.op == "change":
            assert new is not None and index is not None
            rules = rules[:index] + [new] + rules[index + 1 :]
        else:
            assert index is not None
            rules = rules[:index] + rules[index + 1 :]
    return rules


def _insert(rules: list[Rule], new: Rule) -> list[Rule]:
    """Group lines go after the last group line; policy lines at the end."""
    if new.ptype == "g":
        last = max((i for i, r in enumerate(rules) if r.ptype == "g"), default=-1)
        return rules[: last + 1] + [new] + rules[last + 1 :]
    return [*rules, new]


def _show(target: str) -> str:
    try:
        return ", ".join(json.loads(target))
    except (ValueError, TypeError):
        return target


# -- review: diff, what-if, guardrails ------------------------------------------------------------
@dataclass(frozen=True)
class DiffLine:
    op: str  # added, removed, reworded
    rule: Rule
    old_reason: str = ""


def diff(live: list[Rule], draft: list[Rule]) -> list[DiffLine]:
    before = {r.key(): r for r in live}
    after = {r.key(): r for r in draft}
    out = [DiffLine("removed", r) for k, r in before.items() if k not in after]
    out += [DiffLine("added", r) for k, r in after.items() if k not in before]
    out += [
        DiffLine("reworded", after[k], before[k].reason)
        for k in before
        if k in after and before[k].reason != after[k].reason
    ]
    return out


@dataclass
class Review:
    change_set: ChangeSet
    live: list[Rule]
    draft: list[Rule]
    diff: list[DiffLine]
    flags: list[guardrails.Flag]
    lockout: str
    whatif: whatif.WhatIf | None  # as the reviewing administrator may see it (seen_by)
    approved: bool
    author: str
    approver: str | None
    problem: str = ""  # an invalid draft (e.g. stale) cannot be reviewed further

    @property
    def needs_approval(self) -> bool:
        return bool(self.flags)


def _admins(session: Session, ctx: Ctx) -> list[SubjectFacts]:
    return _active_admins(session, ctx.today)


def _engines(session: Session, draft: list[Rule]) -> tuple[list[Rule], PolicyEngine, PolicyEngine]:
    live = store.load_rules(session)
    return live, PolicyEngine(live, store.current_version(session)), PolicyEngine(draft, -1)


def _refusal(
    live_engine: PolicyEngine, draft_engine: PolicyEngine, admins: list[SubjectFacts]
) -> str:
    """Why the draft is refused outright ("" when a second administrator may approve it)."""
    return guardrails.lockout(draft_engine, admins) or guardrails.pages_lockout(
        live_engine, draft_engine, admins
    )


def _flags(
    live: list[Rule],
    draft: list[Rule],
    live_engine: PolicyEngine,
    draft_engine: PolicyEngine,
    effect: whatif.WhatIf | None,
    max_users_lost: int | None,
) -> list[guardrails.Flag]:
    """Every reason the draft needs a second administrator (guardrails.py, duties.py)."""
    found = guardrails.flags(live, draft, live_engine, draft_engine)
    found += duties.flags(live, draft, live_engine, draft_engine)
    if effect is not None:
        limit = duties.DEFAULT_MAX_USERS_LOST if max_users_lost is None else max_users_lost
        found += duties.whatif_flags(effect, limit)
    return found


def _whatif(ctx: Ctx, live_engine: PolicyEngine, draft_engine: PolicyEngine) -> whatif.WhatIf:
    return whatif.run(ctx.session, ctx.access, live_engine, draft_engine, ctx.today)


def _username(session: Session, user_id: uuid.UUID | None) -> str | None:
    return session.scalar(select(User.username).where(User.id == user_id)) if user_id else None


def review(
    ctx: Ctx,
    change_set_id: uuid.UUID | str,
    *,
    with_whatif: bool = True,
    max_users_lost: int | None = None,
) -> Review:
    """Diff against the live policy, the guardrails and (optionally) the what-if over real data.

    The what-if is judged over everything, but shown only up to the reviewer's clearance."""
    cs = _change_set(ctx, change_set_id)
    _require(ctx, "read", "policy.review", str(cs.id))
    author = _username(ctx.session, cs.author_id) or ""
    try:
        draft = draft_rules(ctx.session, cs)
    except (InvalidValue, NotFound) as exc:
        live = store.load_rules(ctx.session)
        return Review(cs, live, live, [], [], "", None, False, author, None, problem=str(exc))
    live, live_engine, draft_engine = _engines(ctx.session, draft)
    effect = _whatif(ctx, live_engine, draft_engine) if with_whatif else None
    result = Review(
        cs,
        live,
        draft,
        diff(live, draft),
        _flags(live, draft, live_engine, draft_engine, effect, max_users_lost),
        _refusal(live_engine, draft_engine, _admins(ctx.session, ctx)),
        effect.seen_by(ctx.subject.clearance) if effect is not None else None,
        _approved(cs, live, draft),
        author,
        _username(ctx.session, cs.approved_by_id),
    )
    if result.whatif is not None:
        shown = [*result.whatif.gains, *result.whatif.losses]
        ctx.access.record(
            ctx.session,
            ctx.subject,
            Event(
                action="policy.whatif",
                object_type="policy",
                outcome="done",
                # the counts shown are at most as sensitive as the highest label among them
                label=max(
                    (Classification.parse(c.label) for c in shown), default=POLICY, key=_rank
                ),
                object_id=str(cs.id),
                detail={
                    "gains": result.whatif.count("gain"),
                    "losses": result.whatif.count("loss"),
                    "withheld": result.whatif.withheld,
                    "flags": [f.code for f in result.flags],
                },
            ),
        )
    return result


def _rank(label: Classification) -> int:
    return Classification.markings().index(label.marking)


def _approved(cs: ChangeSet, live: list[Rule], draft: list[Rule]) -> bool:
    """Approved by someone other than the author, for exactly this draft over this live policy."""
    return (
        cs.approved_by_id is not None
        and cs.approved_by_id != cs.author_id
        and cs.approved_digest == approval_digest(live, draft)
    )


# -- approval and apply ---------------------------------------------------------------------------
@dataclass
class Outcome:
    applied: bool
    version: int | None = None
    refused: str = ""
    flags: list[guardrails.Flag] = field(default_factory=list)
    change_set_id: uuid.UUID | None = None


def approve(
    ctx: Ctx, change_set_id: uuid.UUID | str, reason: str, *, max_users_lost: int | None = None
) -> Outcome:
    """A second administrator approves a flagged draft (two-person rule), with a reason; the audit
    entry names the flags they approved."""
    cs = _change_set(ctx, change_set_id)
    _require(ctx, "approve", "policy.approve", str(cs.id))
    if cs.status != "draft":
        raise InvalidValue("change set", cs.status, why="only a draft can be approved")
    if not reason.strip():
        raise InvalidValue("reason", reason, why="give the reason for approving this change")
    if cs.author_id == ctx.subject.user_id:
        return _refuse(
            ctx, cs, "policy.approve", "Two-person rule: the author of a change cannot approve it."
        )
    draft = draft_rules(ctx.session, cs)
    live, live_engine, draft_engine = _engines(ctx.session, draft)
    effect = _whatif(ctx, live_engine, draft_engine)
    found = _flags(live, draft, live_engine, draft_engine, effect, max_users_lost)
    cs.approved_by_id, cs.approval_reason = ctx.subject.user_id, reason.strip()
    cs.approved_at, cs.approved_digest = utcnow(), approval_digest(live, draft)
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="policy.approve",
            object_type="policy",
            outcome="done",
            label=POLICY,
            object_id=str(cs.id),
            reason=reason.strip(),
            detail={
                "author": _username(ctx.session, cs.author_id),
                "flags": [f.code for f in found],
                "restore_of": cs.restore_of,
            },
        ),
    )
    return Outcome(False, flags=found, change_set_id=cs.id)


def _refuse(
    ctx: Ctx, cs: ChangeSet, action: str, why: str, found: list[guardrails.Flag] | None = None
) -> Outcome:
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action=action,
            object_type="policy",
            outcome="deny",
            label=POLICY,
            object_id=str(cs.id),
            reason=why,
            detail={"flags": [f.code for f in found or []]},
        ),
    )
    return Outcome(False, refused=why, flags=found or [], change_set_id=cs.id)


def apply(
    ctx: Ctx, change_set_id: uuid.UUID | str, *, max_users_lost: int | None = None
) -> Outcome:
    """Apply a draft as a new numbered version, if the guardrails allow it; refusals are audited.

    The checks run again here, over the live policy and data as they are now: what was reviewed
    may have moved on since."""
    cs = _change_set(ctx, change_set_id)
    _require(ctx, "edit", "policy.apply", str(cs.id))
    if cs.status != "draft":
        raise InvalidValue("change set", cs.status, why="this change set is not a draft")
    draft = draft_rules(ctx.session, cs)
    for number, rule in enumerate(draft, start=1):
        problem = policy_files.check(rule)
        if problem:
            raise InvalidValue("policy line", f"{number}: {rule.describe()}", why=problem)
    live, live_engine, draft_engine = _engines(ctx.session, draft)
    if not diff(live, draft):
        raise InvalidValue(
            "change set", cs.description, why="it makes no change to the live policy"
        )
    locked = _refusal(live_engine, draft_engine, _admins(ctx.session, ctx))
    if locked:
        return _refuse(ctx, cs, "policy.apply", locked)
    effect = _whatif(ctx, live_engine, draft_engine)
    found = _flags(live, draft, live_engine, draft_engine, effect, max_users_lost)
    if found and cs.approved_by_id == cs.author_id:  # belt and braces: approve() refuses this
        return _refuse(
            ctx,
            cs,
            "policy.apply",
            "Two-person rule: the author cannot approve their own change.",
            found,
        )
    approved = _approved(cs, live, draft)
    if found and not approved:
        return _refuse(
            ctx,
            cs,
            "policy.apply",
            "This change needs approval by a second policy administrator "
            "(two-person rule) before it can apply.",
            found,
        )
    kind = "restore" if cs.restore_of is not None else "change"
    number = _commit_version(
        ctx.session,
        ctx.access,
        draft,
        kind=kind,
        author_id=cs.author_id,
        approver_id=cs.approved_by_id if approved else None,
        description=cs.description,
        reason=(cs.approval_reason if approved else None) or cs.description,
        change_set_id=cs.id,
        restored_from=cs.restore_of,
        subject=ctx.subject,
        detail={
            "change_set": str(cs.id),
            "flags": [f.code for f in found],
            "approved_by": _username(ctx.session, cs.approved_by_id) if approved else None,
            "diff": [[d.op, d.rule.describe()] for d in diff(live, draft)],
        },
    )
    cs.status, cs.applied_at, cs.applied_version = "applied", utcnow(), number
    return Outcome(True, number, flags=found, change_set_id=cs.id)


def _ensure_baseline(session: Session) -> None:
    """The first managed change keeps the policy it replaces as version 1, so it can be restored."""
    if session.scalar(select(func.count()).select_from(PolicyVersion)):
        return
    rules = store.load_rules(session)
    if rules:
        session.add(
            PolicyVersion(
                number=1,
                rules=rule_json(rules),
                kind="baseline",
                description="The policy in force before versions were kept",
                state_version=store.current_version(session),
            )
        )
        session.flush()


def _commit_version(
    session: Session,
    access: AccessLayer,
    rules: list[Rule],
    *,
    kind: str,
    author_id: uuid.UUID | None,
    approver_id: uuid.UUID | None,
    description: str,
    reason: str,
    change_set_id: uuid.UUID | None = None,
    restored_from: int | None = None,
    subject: Subject | None = None,
    detail: dict[str, object] | None = None,
) -> int:
    _ensure_baseline(session)
    state = store.replace_rules(session, rules)  # bumps policy_state.version in this transaction
    number = (session.scalar(select(func.max(PolicyVersion.number))) or 0) + 1
    session.add(
        PolicyVersion(
            number=number,
            rules=rule_json(rules),
            kind=kind,
            description=description,
            reason=reason,
            author_id=author_id,
            approver_id=approver_id,
            change_set_id=change_set_id,
            restored_from=restored_from,
            state_version=state,
        )
    )
    session.flush()
    access.record(
        session,
        subject,
        Event(
            action=f"policy.{kind}",
            object_type="policy",
            outcome="done",
            label=POLICY,
            object_id=str(number),
            reason=reason,
            detail={
                **(detail or {}),
                "version": number,
                "state_version": state,
                "lines": len(rules),
            },
        ),
    )
    access.invalidate()  # this worker reloads at once; others within RELOAD_CHECK_SECONDS
    return number


# -- versions and restore -------------------------------------------------------------------------
@dataclass(frozen=True)
class VersionSummary:
    number: int
    kind: str
    description: str
    reason: str
    author: str | None
    approver: str | None
    applied_at: object
    lines: int
    restored_from: int | None
    live: bool


def versions(ctx: Ctx) -> list[VersionSummary]:
    _require(ctx, "read", "policy.versions")
    rows = list(ctx.session.scalars(select(PolicyVersion).order_by(PolicyVersion.number.desc())))
    names = dict(ctx.session.execute(select(User.id, User.username)).all())
    state = store.current_version(ctx.session)
    return [
        VersionSummary(
            v.number,
            v.kind,
            v.description,
            v.reason,
            names.get(v.author_id) if v.author_id else None,
            names.get(v.approver_id) if v.approver_id else None,
            v.applied_at,
            len(json.loads(v.rules)),
            v.restored_from,
            v.state_version == state,
        )
        for v in rows
    ]


def version_rules(ctx: Ctx, number: int) -> list[Rule]:
    _require(ctx, "read", "policy.version.view", str(number))
    version = ctx.session.get(PolicyVersion, number)
    if version is None:
        raise NotFound("policy version")
    return rules_from_json(version.rules)


def restore(ctx: Ctx, number: int, reason: str, *, max_users_lost: int | None = None) -> Outcome:
    """Restore an earlier version as a new version, through the same guardrails as any change:
    a flagged restore stays a draft until a second administrator approves it."""
    if not reason.strip():
        raise InvalidValue("reason", reason, why="give the reason for restoring this version")
    _require(ctx, "edit", "policy.restore", str(number))
    if ctx.session.get(PolicyVersion, number) is None:
        raise NotFound("policy version")
    cs = ChangeSet(
        id=uuid.uuid4(),
        description=f"Restore version {number}: {reason.strip()}",
        status="draft",
        author_id=ctx.subject.user_id,
        restore_of=number,
    )
    ctx.session.add(cs)
    ctx.session.flush()
    return apply(ctx, cs.id, max_users_lost=max_users_lost)


def drafts(ctx: Ctx) -> list[tuple[ChangeSet, str]]:
    _require(ctx, "read", "policy.drafts")
    rows = ctx.session.execute(
        select(ChangeSet, User.username)
        .join(User, User.id == ChangeSet.author_id)
        .where(ChangeSet.status == "draft")
        .order_by(ChangeSet.created_at.desc())
    ).all()
    return [(cs, name) for cs, name in rows]


def get_change_set(ctx: Ctx, change_set_id: uuid.UUID | str) -> tuple[ChangeSet, list[ChangeLine]]:
    cs = _change_set(ctx, change_set_id)
    _require(ctx, "read", "policy.draft.view", str(cs.id))
    return cs, ops(ctx.session, cs)


# -- the CLI import -------------------------------------------------------------------------------
class ImportRefused(NotPermitted):
    """`policy import` would change the live policy in a way one person may not."""

    def __init__(self, why: str, found: list[guardrails.Flag]) -> None:
        super().__init__(why)
        self.why = why
        self.flags = found


def _active_admins(session: Session, today: date) -> list[SubjectFacts]:
    return [
        SubjectFacts(u.role, c.marking)
        for u in session.scalars(
            select(User).where(User.role == Role.POLICY_ADMIN.value, User.disabled_at.is_(None))
        )
        if (c := VettingStatus(Vetting.parse(u.vetting), u.vetting_expires).clearance(today))
        is not None
    ]


def record_import(
    session: Session,
    access: AccessLayer,
    rules: list[Rule],
    source: str,
    *,
    operator: str = "",
    max_users_lost: int | None = None,
) -> int:
    """`policy import`: a validated file becomes the live policy as a new numbered version.

    An operator's command has no second administrator, so it may load the first policy (`db
    upgrade` on a new instance) and changes that raise no flag; a file that would lock the
    administrators out, or that any guardrail flags, is refused (ImportRefused): such a change is
    made as a draft in the policy pages, where a second administrator approves it.
    """
    today = date.today()
    engine = PolicyEngine(rules, -1)
    admins = _active_admins(session, today)
    live = store.load_rules(session)
    found: list[guardrails.Flag] = []
    if live:
        live_engine = PolicyEngine(live, store.current_version(session))
        locked = _refusal(live_engine, engine, admins)
        if not locked and diff(live, rules):
            effect = whatif.run(session, access, live_engine, engine, today)
            found = _flags(live, rules, live_engine, engine, effect, max_users_lost)
    else:
        locked = guardrails.lockout(engine, admins)
    if locked:
        raise ImportRefused(locked, [])
    if found:
        raise ImportRefused(
            "Refused: this file changes the live policy in a way that needs a second policy "
            "administrator (two-person rule): "
            + " ".join(f.message for f in found)
            + " Make the change as a draft in the policy pages, where another administrator "
            "approves it.",
            found,
        )
    return _commit_version(
        session,
        access,
        rules,
        kind="import",
        author_id=None,
        approver_id=None,
        description=f"Imported from {source}",
        reason=f"policy import {source}",
        detail={"source": source, "operator": operator, "first": not live, "flags": []},
    )


def record_import_refusal(
    session: Session, access: AccessLayer, source: str, operator: str, refused: ImportRefused
) -> None:
    """The refused import, audited in its own transaction (the import itself rolled back)."""
    access.record(
        session,
        None,
        Event(
            action="policy.import",
            object_type="policy",
            outcome="deny",
            label=POLICY,
            object_id="import",  # the file's path goes in the detail: it may be long
            reason=refused.why,
            detail={
                "source": source,
                "operator": operator,
                "flags": [f.code for f in refused.flags],
            },
        ),
    )
