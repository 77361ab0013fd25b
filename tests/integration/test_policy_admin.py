"""Policy administration: guardrails, lockout, two-person rule, apply, rollback, what-if, import."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.access import policy_files, store
from shareplatform.access.facts import Facts
from shareplatform.access.vocabulary import Act, record_kind
from shareplatform.accounts.models import User
from shareplatform.accounts.services import NewUser, create_user
from shareplatform.audit.log import Event
from shareplatform.audit.models import AuditEntry
from shareplatform.cases.models import Case
from shareplatform.cases.services import add_member, add_nominal, open_case
from shareplatform.domain.cases import RecordType
from shareplatform.domain.errors import InvalidValue
from shareplatform.domain.labels import Classification
from shareplatform.platform import Platform
from shareplatform.policy_admin import duties, guardrails
from shareplatform.policy_admin import services as pa
from shareplatform.policy_admin.models import PolicyVersion
from shareplatform.records.models import Record
from tests.factories import app_for, ctx_for

TODAY = date.today()
POM_SECRET = ["POM", "record/*", "read", "SECRET", "team", "allow"]
FRONTLINE_DENY = ("frontline", "*", "read", "SECRET", "any", "deny")
CORRIDOR_SECRET = ("corridor", "record/*", "read", "SECRET", "need_to_know", "allow")
UNCLEARED = ("*", "*", "*", "*", "uncleared", "deny")
ADMIN_EDIT = ("POLICY_ADMIN", "policy", "edit", "*", "any", "allow")


@dataclass
class Small:
    """A hand-sized data set: one case, four users, three records."""

    case: Case
    r1: str  # SECRET minutes, NSD, no caveat
    r2: str  # SECRET minutes, NSD, ORCON
    r3: str  # OFFICIAL-SENSITIVE office contact, PRISON


def _user(session, username: str, role: str, vetting: str, nsd: str | None = None) -> User:  # type: ignore[no-untyped-def]
    return create_user(
        session,
        NewUser(
            username, username.title(), role, vetting, TODAY + timedelta(days=365), nsd_unit=nsd
        ),
    )


def _record(
    platform: Platform,
    session,
    case: Case,
    author: User,
    rtype: str,
    label: str,
    caveats: str,
    agency: str,
) -> str:  # type: ignore[no-untyped-def]
    rec = Record(
        id=uuid.uuid4(),
        case_id=case.id,
        record_type=rtype,
        originating_agency=agency,
        author_id=author.id,
        occurred_on=TODAY,
        classification=label,
        caveats=caveats,
    )
    platform.system_writer.seal(
        session,
        rec,
        {"title": "t", "body": "b"},
        Event(
            action="record.create",
            object_type="record",
            outcome="done",
            label=Classification.parse(label),
        ),
    )
    session.flush()
    return str(rec.id)


def small(platform: Platform) -> Small:
    with platform.transaction() as session:
        _user(session, "policy.one", "POLICY_ADMIN", "SC")
        _user(session, "policy.two", "POLICY_ADMIN", "SC")
        pom_sc = _user(session, "pom.sc", "POM", "SC")
        pom_bpss = _user(session, "pom.bpss", "POM", "BPSS")
        _user(session, "com.sc", "COM", "SC", "North")  # not on the team
        honsu = _user(session, "honsu.h", "HONSU", "SC", "North")  # oversight of the North unit
        nominal = add_nominal(
            session,
            platform.system_writer,
            platform.indexer,
            given_name="Test",
            family_name="Person",
        )
        case = open_case(
            session,
            platform.system_writer,
            nominal=nominal,
            reference="SP-9001",
            category="TERRORIST",
            phase="CUSTODY",
            lead_agency="PRISON",
            nsd_unit="North",
            ct_unit="CTP North East",
        )
        session.flush()
        start = TODAY - timedelta(days=30)
        add_member(session, case, pom_sc.id, "POM", start, lead=True)
        add_member(session, case, pom_bpss.id, "POM", start)
        r1 = _record(platform, session, case, honsu, "MINUTES", "SECRET", "", "NSD")
        r2 = _record(platform, session, case, honsu, "MINUTES", "SECRET", "ORCON", "NSD")
        r3 = _record(
            platform, session, case, pom_sc, "CONTACT_OFFICE", "OFFICIAL-SENSITIVE", "", "PRISON"
        )
    return Small(case, r1, r2, r3)


def _key(session, values: tuple[str, ...]) -> str:  # type: ignore[no-untyped-def]
    for rule in store.load_rules(session):
        if rule.values == values:
            return pa.key_of(rule)
    raise AssertionError(f"no live line {values}")


def _draft(platform: Platform, who: str, description: str, add=(), remove=()):  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, who)
        cs = pa.start_change_set(ctx, description)
        for values in add:
            pa.add_line(ctx, cs.id, "p", list(values), "test line")
        for values in remove:
            pa.remove_line(ctx, cs.id, _key(session, values))
        return cs.id


def _apply(platform: Platform, who: str, cs_id) -> pa.Outcome:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return pa.apply(ctx_for(platform, session, who), cs_id)


def _pom_reads_secret(platform: Platform, data: Small) -> bool:
    """Judged by a brand-new Platform (new AccessLayer and engine) over the same database."""
    fresh = Platform(platform.config)
    try:
        with fresh.transaction() as session:
            ctx = ctx_for(fresh, session, "pom.sc")
            facts = Facts(record_kind(RecordType.MINUTES), Classification.SECRET, team=True)
            return fresh.access.decide(session, ctx.subject, facts, Act.READ).allowed
    finally:
        fresh.db.dispose()


# -- guardrails -----------------------------------------------------------------------------------
def test_guardrails_flag_secret_outside_corridor_clearance_removal_and_admin_content(
    platform: Platform,
) -> None:
    small(platform)
    cases = {
        "secret": _draft(
            platform, "policy.one", "POMs read SECRET", add=[POM_SECRET], remove=[FRONTLINE_DENY]
        ),
        "clearance": _draft(platform, "policy.one", "drop clearance", remove=[UNCLEARED]),
        "admin": _draft(
            platform,
            "policy.one",
            "admins read records",
            add=[("POLICY_ADMIN", "record/*", "read", "OFFICIAL", "any", "allow")],
            remove=[("platform", "record/*", "read", "*", "any", "deny")],
        ),
        "benign": _draft(
            platform,
            "policy.one",
            "keyworkers write phone notes",
            add=[("KEYWORKER", "record/CONTACT_PHONE", "write", "OFFICIAL", "team", "allow")],
        ),
    }
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "policy.two")
        codes = {
            name: {f.code for f in pa.review(ctx, cs, with_whatif=False).flags}
            for name, cs in cases.items()
        }
    # removing the frontline deny and the platform deny also removes a protective line, and an
    # administrator's own role gaining records touches administrators' rights (duties.py)
    assert codes["secret"] == {guardrails.SECRET_OUTSIDE_CORRIDOR, duties.PROTECTIVE_LINE_REMOVED}
    assert codes["clearance"] == {guardrails.CLEARANCE_CHECK_REMOVED}
    assert codes["admin"] == {
        guardrails.ADMIN_READS_CONTENT,
        duties.PROTECTIVE_LINE_REMOVED,
        duties.ADMIN_RIGHTS_CHANGED,
        duties.NEED_TO_KNOW_WEAKENED,
    }
    assert codes["benign"] == set()


def test_group_change_putting_an_admin_among_practitioners_is_flagged(platform: Platform) -> None:
    small(platform)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "policy.one")
        cs = pa.start_change_set(ctx, "admins as practitioners")
        pa.add_line(ctx, cs.id, "g", ["POLICY_ADMIN", "practitioner"], "wrong on purpose")
        review = pa.review(ctx, cs.id, with_whatif=False)
    assert guardrails.ADMIN_READS_CONTENT in {f.code for f in review.flags}
    assert any("POLICY_ADMIN may read" in e for f in review.flags for e in f.examples)


# -- lockout --------------------------------------------------------------------------------------
@pytest.mark.parametrize("change", ["remove", "deny"])
def test_change_locking_every_administrator_out_is_refused(platform: Platform, change: str) -> None:
    small(platform)
    if change == "remove":
        cs = _draft(platform, "policy.one", "remove admin edit", remove=[ADMIN_EDIT])
    else:
        cs = _draft(
            platform,
            "policy.one",
            "deny admins",
            add=[("platform", "policy", "edit", "*", "any", "deny")],
        )
    with platform.transaction() as session:
        before = store.current_version(session)
        review = pa.review(ctx_for(platform, session, "policy.two"), cs, with_whatif=False)
    assert review.lockout
    outcome = _apply(platform, "policy.one", cs)
    assert not outcome.applied and "locked out" in outcome.refused
    with platform.transaction() as session:
        assert store.current_version(session) == before
        denied = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "policy.apply", AuditEntry.outcome == "deny"
            )
        ).all()
        assert len(denied) == 1 and "locked out" in denied[0].reason
        # approval does not help: lockout is refused outright
        pa.approve(ctx_for(platform, session, "policy.two"), cs, "trying anyway")
    assert not _apply(platform, "policy.one", cs).applied


# -- two-person rule, apply, effect in a new engine, rollback -------------------------------------
def test_two_person_rule_apply_and_rollback(platform: Platform) -> None:
    data = small(platform)
    assert not _pom_reads_secret(platform, data)
    cs = _draft(
        platform,
        "policy.one",
        "POMs read SECRET on their cases",
        add=[POM_SECRET],
        remove=[FRONTLINE_DENY],
    )

    refused = _apply(platform, "policy.one", cs)
    assert not refused.applied and "second policy administrator" in refused.refused
    with platform.transaction() as session:
        own = pa.approve(ctx_for(platform, session, "policy.one"), cs, "my own change")
    assert "author of a change cannot approve" in own.refused
    assert not _apply(platform, "policy.one", cs).applied

    with platform.transaction() as session:
        pa.approve(ctx_for(platform, session, "policy.two"), cs, "agreed at the governance board")
        with pytest.raises(InvalidValue):
            pa.approve(ctx_for(platform, session, "policy.two"), cs, "")
        state_before = store.current_version(session)
    outcome = _apply(platform, "policy.one", cs)
    assert outcome.applied and outcome.version == 2  # version 1 is the baseline it replaced
    assert _pom_reads_secret(platform, data)

    with platform.transaction() as session:
        assert store.current_version(session) == state_before + 1
        v2 = session.get(PolicyVersion, 2)
        assert (
            v2 is not None and v2.kind == "change" and v2.reason == "agreed at the governance board"
        )
        assert (
            session.scalar(select(User.username).where(User.id == v2.approver_id)) == "policy.two"
        )
        assert session.scalar(select(User.username).where(User.id == v2.author_id)) == "policy.one"
        rules = pa.rules_from_json(v2.rules)
        assert tuple(POM_SECRET) in [r.values for r in rules] and FRONTLINE_DENY not in [
            r.values for r in rules
        ]
        applied = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "policy.change")
        ).one()
        assert applied.object_id == "2" and json.loads(applied.detail)["flags"] == [
            guardrails.SECRET_OUTSIDE_CORRIDOR,
            duties.PROTECTIVE_LINE_REMOVED,
        ]

    # rollback: restoring version 1 removes a permission (no guardrail): one administrator may
    with platform.transaction() as session:
        back = pa.restore(ctx_for(platform, session, "policy.one"), 1, "pilot over")
    assert back.applied and back.version == 3
    assert not _pom_reads_secret(platform, data)
    with platform.transaction() as session:
        listed = pa.versions(ctx_for(platform, session, "policy.two"))
        assert [(v.number, v.kind, v.live) for v in listed] == [
            (3, "restore", True),
            (2, "change", False),
            (1, "baseline", False),
        ]
        assert listed[0].restored_from == 1
        assert [r.key() for r in store.load_rules(session)] == [
            r.key() for r in policy_files.read()
        ]

    # restoring the flagged version is itself flagged: it needs the second administrator again
    with platform.transaction() as session:
        again = pa.restore(ctx_for(platform, session, "policy.one"), 2, "second pilot")
    assert not again.applied and again.flags


def test_editing_after_approval_voids_the_approval(platform: Platform) -> None:
    small(platform)
    cs = _draft(
        platform, "policy.one", "POMs read SECRET", add=[POM_SECRET], remove=[FRONTLINE_DENY]
    )
    with platform.transaction() as session:
        pa.approve(ctx_for(platform, session, "policy.two"), cs, "ok")
    with platform.transaction() as session:
        pa.add_line(
            ctx_for(platform, session, "policy.one"),
            cs,
            "p",
            ["POM", "record/*", "read", "SECRET", "panel", "allow"],
            "slipped in after approval",
        )
    assert "second policy administrator" in _apply(platform, "policy.one", cs).refused


def test_only_policy_administrators_edit_and_drafts_are_validated(platform: Platform) -> None:
    from shareplatform.domain.errors import NotPermitted

    small(platform)
    with platform.transaction() as session, pytest.raises(NotPermitted):
        pa.start_change_set(ctx_for(platform, session, "honsu.h"), "sneaky")
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "policy.one")
        cs = pa.start_change_set(ctx, "typos")
        with pytest.raises(InvalidValue, match="unknown action"):
            pa.add_line(
                ctx, cs.id, "p", ["POM", "record/*", "peek", "SECRET", "team", "allow"], "r"
            )
        with pytest.raises(InvalidValue, match="reason"):
            pa.add_line(
                ctx, cs.id, "p", ["POM", "record/*", "read", "OFFICIAL", "team", "allow"], " "
            )
        with pytest.raises(InvalidValue, match="already has"):
            pa.add_line(ctx, cs.id, "p", list(ADMIN_EDIT), "duplicate")
        with pytest.raises(InvalidValue, match="no longer in the live policy"):
            pa.remove_line(ctx, cs.id, '["p", "nobody", "case", "read", "*", "any", "allow"]')
        assert pa.get_change_set(ctx, cs.id)[1] == []  # refused operations leave nothing behind


# -- what-if --------------------------------------------------------------------------------------
def test_whatif_counts_match_a_hand_computed_expectation(platform: Platform) -> None:
    data = small(platform)
    gain = _draft(
        platform, "policy.one", "POMs read SECRET", add=[POM_SECRET], remove=[FRONTLINE_DENY]
    )
    loss = _draft(platform, "policy.one", "corridor loses SECRET", remove=[CORRIDOR_SECRET])
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "policy.two")
        up = pa.review(ctx, gain).whatif
        down = pa.review(ctx, loss).whatif
    assert up is not None and down is not None
    # pom.sc (SC, on the team) gains r1 only: r2 is NSD ORCON; pom.bpss is held by the kernel's
    # clearance floor; com.sc is frontline but not a POM and not on the team.
    assert [(c.username, c.label, c.agency, c.records) for c in up.gains] == [
        ("pom.sc", "SECRET", "PRISON", (data.r1,))
    ]
    assert up.losses == [] and up.count("gain", "SECRET", "PRISON") == 1
    # the HoNSU (oversight, NSD) loses both NSD SECRET minutes; r2's ORCON is their own agency's.
    assert down.gains == [] and down.count("loss", "SECRET", "NSD") == 2
    (group,) = down.groups("loss")
    assert (group.label, group.agency, group.count, group.users) == (
        "SECRET",
        "NSD",
        2,
        {"honsu.h"},
    )
    assert sorted(r for c in group.items for r in c.records) == sorted([data.r1, data.r2])
    assert up.records == 3 and up.users == 6


def test_whatif_over_the_demo_data(seeded: Platform) -> None:
    cs = _draft(
        seeded,
        "policy.admin",
        "SOLs leave the corridor",
        remove=[("corridor", "record/*", "read", "SECRET", "need_to_know", "allow")],
    )
    with seeded.transaction() as session:
        result = pa.review(ctx_for(seeded, session, "policy.admin2"), cs).whatif
    assert result is not None and not result.gains
    losers = {c.username for c in result.losses}
    assert {"honsu.hughes", "sol.santos", "lro.lewis"} <= losers
    assert all(c.label == "SECRET" for c in result.losses)
    assert "pom.parker" not in losers and "com.cole" not in losers


# -- policy import via the CLI --------------------------------------------------------------------
def test_cli_import_records_a_version_and_refuses_a_bad_file(platform: Platform, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = app_for(platform)
    try:
        _import_checks(platform, app.test_cli_runner(), tmp_path)
    finally:
        app.extensions["shareplatform"].db.dispose()


def _import_checks(platform: Platform, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.csv"
    good.write_text(policy_files.render(policy_files.read()))
    result = runner.invoke(args=["policy", "import", str(good)])
    assert result.exit_code == 0, result.output
    with platform.transaction() as session:
        numbers = [
            v.number for v in session.scalars(select(PolicyVersion).order_by(PolicyVersion.number))
        ]
        assert numbers == [1, 2] and session.get(PolicyVersion, 2).kind == "import"  # type: ignore[union-attr]
        state = store.current_version(session)

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "# reason\np, POM, record/*, read, SECRET, team, allow\n"
        "# reason\np, POM, record/*, peek, SECRET, team, allow\n"
    )
    result = runner.invoke(args=["policy", "import", str(bad)])
    assert result.exit_code == 1
    assert "line 4" in result.output and "unknown action 'peek'" in result.output
    with platform.transaction() as session:
        assert store.current_version(session) == state
        assert (
            session.scalar(select(PolicyVersion.number).order_by(PolicyVersion.number.desc())) == 2
        )
