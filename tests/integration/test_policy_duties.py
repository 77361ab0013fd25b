"""Separation of duties in policy administration: what one policy administrator may not do alone
(shareplatform/policy_admin/duties.py, guardrails.py), on SQLite and PostgreSQL.

Each change below is either refused outright or needs a second, different administrator's
approval; the what-if never shows an administrator effects above their own clearance.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from shareplatform.access import policy_files, store
from shareplatform.access.policy_files import Rule
from shareplatform.audit.models import AuditEntry
from shareplatform.cases.services import add_member
from shareplatform.config import Config
from shareplatform.platform import Platform
from shareplatform.policy_admin import duties, guardrails
from shareplatform.policy_admin import services as pa
from shareplatform.policy_admin.models import PolicyVersion
from tests.factories import app_for, ctx_for, fresh_platform
from tests.integration.test_policy_admin import TODAY, Small, _apply, _draft, _key, _user, small

CORRIDOR_READS_ALL = ("corridor", "*", "read", "*", "any", "allow")
ORCON_DENY = ("*", "record/*", "read", "*", "orcon_foreign", "deny")
FRONTLINE_DENY = ("frontline", "*", "read", "SECRET", "any", "deny")
PLATFORM_RECORDS_DENY = ("platform", "record/*", "read", "*", "any", "deny")
CLOSED_PART = ("corridor", "meeting/closed", "read", "SECRET", "panel", "allow")


def _codes(platform: Platform, cs, who: str = "policy.two", **kw) -> set[str]:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        review = pa.review(ctx_for(platform, session, who), cs, **kw)
    return {f.code for f in review.flags}


def _approve(platform: Platform, who: str, cs) -> pa.Outcome:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return pa.approve(ctx_for(platform, session, who), cs, "agreed at the governance board")


def _version(platform: Platform) -> int:
    with platform.transaction() as session:
        return store.current_version(session)


def _needs_two(platform: Platform, cs, code: str) -> None:  # type: ignore[no-untyped-def]
    """The author alone is refused (and may not approve); a second administrator unlocks it."""
    before = _version(platform)
    alone = _apply(platform, "policy.one", cs)
    assert not alone.applied and "second policy administrator" in alone.refused
    assert code in {f.code for f in alone.flags}
    own = _approve(platform, "policy.one", cs)
    assert "author of a change cannot approve" in own.refused
    assert not _apply(platform, "policy.one", cs).applied
    assert _version(platform) == before
    assert code in {f.code for f in _approve(platform, "policy.two", cs).flags}
    assert _apply(platform, "policy.one", cs).applied
    assert _version(platform) == before + 1
    with platform.transaction() as session:
        entries = {
            e.action: e
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action.in_(["policy.approve", "policy.change"]))
            )
        }
    # the audit log names the flags that were approved and applied
    assert code in json.loads(entries["policy.approve"].detail)["flags"]
    assert code in json.loads(entries["policy.change"].detail)["flags"]
    assert json.loads(entries["policy.change"].detail)["approved_by"] == "policy.two"


# -- widening who reads SECRET --------------------------------------------------------------------
def test_corridor_reading_every_secret_record_needs_two_administrators(platform: Platform) -> None:
    small(platform)
    cs = _draft(platform, "policy.one", "corridor reads everything", add=[CORRIDOR_READS_ALL])
    with platform.transaction() as session:
        review = pa.review(ctx_for(platform, session, "policy.two"), cs, with_whatif=False)
    found = {f.code: f for f in review.flags}
    assert {duties.SECRET_READ_WIDENED, duties.NEED_TO_KNOW_WEAKENED} <= set(found)
    assert any(
        e.startswith("GOVERNOR may read") and "at SECRET (no relation)" in e
        for e in found[duties.SECRET_READ_WIDENED].examples
    )
    assert "need-to-know" in found[duties.NEED_TO_KNOW_WEAKENED].message
    _needs_two(platform, cs, duties.SECRET_READ_WIDENED)


def test_a_wider_condition_inside_the_corridor_needs_two_administrators(
    platform: Platform,
) -> None:
    small(platform)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "policy.one")
        cs = pa.start_change_set(ctx, "closed part for the whole team").id
        wider = [*CLOSED_PART[:4], "need_to_know", "allow"]
        pa.change_line(ctx, cs, _key(session, CLOSED_PART), "p", wider, "team reads it too")
    codes = _codes(platform, cs, with_whatif=False)
    assert duties.SECRET_READ_WIDENED in codes
    assert guardrails.SECRET_OUTSIDE_CORRIDOR not in codes  # still only the corridor
    _needs_two(platform, cs, duties.SECRET_READ_WIDENED)


def test_narrowing_inside_the_corridor_is_one_administrators_job(platform: Platform) -> None:
    small(platform)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "policy.one")
        cs = pa.start_change_set(ctx, "closed part for the panel only").id
        narrower = ["HONSU", *CLOSED_PART[1:]]
        pa.change_line(ctx, cs, _key(session, CLOSED_PART), "p", narrower, "chairs only")
    assert _codes(platform, cs) == set()
    assert _apply(platform, "policy.one", cs).applied


# -- protective lines -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "line",
    [ORCON_DENY, FRONTLINE_DENY, PLATFORM_RECORDS_DENY, ("POM", "frontline")],
    ids=["orcon", "sterile-corridor", "separation-of-duties", "frontline-group"],
)
def test_removing_a_protective_line_needs_two_administrators(
    platform: Platform, line: tuple[str, ...]
) -> None:
    small(platform)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "policy.one")
        cs = pa.start_change_set(ctx, "remove a protection").id
        pa.remove_line(ctx, cs, _key(session, line))
        review = pa.review(ctx, cs, with_whatif=False)
    (flag,) = [f for f in review.flags if f.code == duties.PROTECTIVE_LINE_REMOVED]
    assert flag.examples[0].startswith(", ".join(("g" if len(line) == 2 else "p", *line)))
    assert "second policy administrator" in flag.message
    _needs_two(platform, cs, duties.PROTECTIVE_LINE_REMOVED)


def test_weakening_the_orcon_deny_by_a_change_needs_two_administrators(
    platform: Platform,
) -> None:
    small(platform)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "policy.one")
        cs = pa.start_change_set(ctx, "ORCON for minutes only").id
        narrowed = ["*", "record/MINUTES", "read", "*", "orcon_foreign", "deny"]
        pa.change_line(ctx, cs, _key(session, ORCON_DENY), "p", narrowed, "minutes only")
        review = pa.review(ctx, cs, with_whatif=False)
    flag = {f.code: f for f in review.flags}[duties.PROTECTIVE_LINE_REMOVED]
    assert flag.examples == ("p, *, record/*, read, *, orcon_foreign, deny (ORCON)",)
    assert not _apply(platform, "policy.one", cs).applied


def test_adding_a_deny_line_is_one_administrators_job(platform: Platform) -> None:
    small(platform)
    cs = _draft(
        platform,
        "policy.one",
        "keyworkers never see plans",
        add=[("KEYWORKER", "plan", "read", "*", "any", "deny")],
    )
    assert _codes(platform, cs) == set()
    assert _apply(platform, "policy.one", cs).applied


# -- taking access away ---------------------------------------------------------------------------
def test_removing_a_whole_role_from_every_case_needs_two_administrators(
    platform: Platform,
) -> None:
    small(platform)
    with platform.transaction() as session:
        _user(session, "sol.s", "SOL", "SC", "North")  # oversight of the North unit's cases
        ctx = ctx_for(platform, session, "policy.one")
        cs = pa.start_change_set(ctx, "SOLs leave the corridor").id
        pa.remove_line(ctx, cs, pa.key_of(Rule("g", ("SOL", "corridor"))))
        review = pa.review(ctx, cs)
    found = {f.code: f for f in review.flags}
    assert found[duties.ROLE_REMOVED_FROM_CASES].examples == ("SOL could no longer open any case",)
    assert found[duties.WHOLE_ROLE_LOSES_ACCESS].examples == ("every SOL would lose access",)
    assert review.whatif is not None and {c.username for c in review.whatif.losses} == {"sol.s"}
    _needs_two(platform, cs, duties.ROLE_REMOVED_FROM_CASES)


def _three_coms_on_the_team(platform: Platform, data: Small) -> None:
    with platform.transaction() as session:
        for name in ("com.one", "com.two", "com.three"):
            user = _user(session, name, "COM", "SC", "North")
            add_member(session, data.case, user.id, "COM", TODAY - timedelta(days=3))


def test_removing_access_for_more_users_than_the_limit_needs_two_administrators(
    platform: Platform,
) -> None:
    data = small(platform)
    _three_coms_on_the_team(platform, data)
    # COMs on the team stop reading OFFICIAL-SENSITIVE office contacts: three users lose r3,
    # com.sc (not on the team) loses nothing, so it is not the whole role
    deny = ("COM", "record/CONTACT_OFFICE", "read", "OFFICIAL-SENSITIVE", "team", "deny")
    cs = _draft(platform, "policy.one", "COMs stop reading office contacts", add=[deny])
    assert _codes(platform, cs, max_users_lost=3) == set()
    found = _codes(platform, cs, max_users_lost=2)
    assert found == {duties.MANY_USERS_LOSE_ACCESS}
    with platform.transaction() as session:
        alone = pa.apply(ctx_for(platform, session, "policy.one"), cs, max_users_lost=2)
    assert not alone.applied and "more than 2 users" in alone.flags[0].message
    with platform.transaction() as session:
        pa.approve(ctx_for(platform, session, "policy.two"), cs, "ok", max_users_lost=2)
    with platform.transaction() as session:
        assert pa.apply(ctx_for(platform, session, "policy.one"), cs, max_users_lost=2).applied


def test_the_user_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHAREPLATFORM_POLICY_MAX_USERS_LOST", raising=False)
    assert Config.from_env().POLICY_MAX_USERS_LOST == duties.DEFAULT_MAX_USERS_LOST == 10
    monkeypatch.setenv("SHAREPLATFORM_POLICY_MAX_USERS_LOST", "25")
    assert Config.from_env().POLICY_MAX_USERS_LOST == 25


# -- administrators' own rights -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ptype", "values"),
    [
        ("p", ("POLICY_ADMIN", "user", "manage", "*", "any", "allow")),
        ("p", ("corridor", "*", "manage", "*", "any", "allow")),
        ("g", ("POLICY_ADMIN", "corridor")),
        ("p", ("AUDITOR", "audit", "verify", "*", "any", "deny")),
    ],
    ids=["admin-grants-itself-users", "wildcard-object", "admin-joins-corridor", "auditor-loses"],
)
def test_touching_administrators_rights_needs_two_administrators(
    platform: Platform, ptype: str, values: tuple[str, ...]
) -> None:
    small(platform)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "policy.one")
        cs = pa.start_change_set(ctx, "administrators' rights").id
        pa.add_line(ctx, cs, ptype, list(values), "test line")
    assert duties.ADMIN_RIGHTS_CHANGED in _codes(platform, cs, with_whatif=False)
    _needs_two(platform, cs, duties.ADMIN_RIGHTS_CHANGED)


def test_corridor_user_management_by_wildcard_is_named(platform: Platform) -> None:
    small(platform)
    cs = _draft(
        platform,
        "policy.one",
        "managers manage",
        add=[("corridor", "*", "manage", "*", "any", "allow")],
    )
    with platform.transaction() as session:
        review = pa.review(ctx_for(platform, session, "policy.two"), cs, with_whatif=False)
    (flag,) = [f for f in review.flags if f.code == duties.ADMIN_RIGHTS_CHANGED]
    assert "HONSU may manage user" in flag.examples


# -- locking administrators out: refused outright -------------------------------------------------
LOCKOUTS = {
    "deny-read": [("p", ("platform", "policy", "read", "*", "any", "deny"))],
    "wildcard-deny": [("p", ("*", "policy", "*", "*", "any", "deny"))],
    "deny-approve": [("p", ("POLICY_ADMIN", "policy", "approve", "*", "any", "deny"))],
    "group-change": [
        ("p", ("specialist", "policy", "*", "*", "any", "deny")),
        ("g", ("POLICY_ADMIN", "specialist")),
    ],
}


@pytest.mark.parametrize("name", sorted(LOCKOUTS))
def test_locking_administrators_out_of_the_policy_pages_is_refused(
    platform: Platform, name: str
) -> None:
    small(platform)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "policy.one")
        cs = pa.start_change_set(ctx, f"lock out: {name}").id
        for ptype, values in LOCKOUTS[name]:
            pa.add_line(ctx, cs, ptype, list(values), "test line")
    before = _version(platform)
    with platform.transaction() as session:
        review = pa.review(ctx_for(platform, session, "policy.two"), cs, with_whatif=False)
    assert review.lockout.startswith("Refused") and "locked out" in review.lockout
    outcome = _apply(platform, "policy.one", cs)
    assert not outcome.applied and "locked out" in outcome.refused
    _approve(platform, "policy.two", cs)  # a second administrator cannot unlock it
    again = _apply(platform, "policy.two", cs)
    assert not again.applied and "even with a second administrator" in again.refused
    assert _version(platform) == before


# -- restores: the same rules, and the approver is never the author -------------------------------
def test_a_flagged_restore_needs_a_different_approver_and_lapses_if_the_policy_moves(
    platform: Platform,
) -> None:
    small(platform)
    cs = _draft(platform, "policy.one", "ORCON pilot", remove=[ORCON_DENY])
    _approve(platform, "policy.two", cs)
    assert _apply(platform, "policy.two", cs).applied  # version 2, without the ORCON deny
    with platform.transaction() as session:
        back = pa.restore(ctx_for(platform, session, "policy.one"), 1, "pilot over")
    assert back.applied  # putting the protection back is one administrator's job

    with platform.transaction() as session:
        again = pa.restore(ctx_for(platform, session, "policy.one"), 2, "pilot again")
    assert not again.applied and duties.PROTECTIVE_LINE_REMOVED in {f.code for f in again.flags}
    restore_cs = again.change_set_id
    assert (
        "author of a change cannot approve" in _approve(platform, "policy.one", restore_cs).refused
    )
    _approve(platform, "policy.two", restore_cs)
    # the live policy moves on after the approval: the approval covered the old starting point
    tighter = _draft(
        platform,
        "policy.two",
        "keyworkers never see plans",
        add=[("KEYWORKER", "plan", "read", "*", "any", "deny")],
    )
    assert _apply(platform, "policy.two", tighter).applied
    stale = _apply(platform, "policy.one", restore_cs)
    assert not stale.applied and "second policy administrator" in stale.refused
    _approve(platform, "policy.two", restore_cs)
    assert _apply(platform, "policy.one", restore_cs).applied


# -- the what-if never shows more than the administrator's clearance ------------------------------
def test_whatif_withholds_effects_above_the_administrators_clearance(platform: Platform) -> None:
    data = small(platform)
    with platform.transaction() as session:
        _user(session, "policy.bpss", "POLICY_ADMIN", "BPSS")
    gain = _draft(
        platform,
        "policy.one",
        "POMs read SECRET",
        add=[("POM", "record/*", "read", "SECRET", "team", "allow")],
        remove=[FRONTLINE_DENY],
    )
    with platform.transaction() as session:
        cleared = pa.review(ctx_for(platform, session, "policy.two"), gain)
        low = pa.review(ctx_for(platform, session, "policy.bpss"), gain)
    assert cleared.whatif is not None and low.whatif is not None
    assert [c.records for c in cleared.whatif.gains] == [(data.r1,)]
    assert not cleared.whatif.withheld and cleared.whatif.records == 3
    # the BPSS administrator sees neither the case, nor the record, nor any count of them
    assert low.whatif.gains == [] and low.whatif.losses == [] and low.whatif.withheld
    assert low.whatif.count("gain") == 0 and low.whatif.groups("gain") == []
    assert low.whatif.records == 1  # the OFFICIAL-SENSITIVE contact only
    # ... but the guardrails judged every effect all the same
    assert {f.code for f in low.flags} == {f.code for f in cleared.flags}
    with platform.transaction() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "policy.whatif").order_by(AuditEntry.seq)
        ).all()
    seen = [json.loads(e.detail) for e in entries]
    assert [(d["gains"], d["withheld"]) for d in seen] == [(1, False), (0, True)]
    assert [e.label for e in entries] == ["SECRET", "OFFICIAL"]


def test_whatif_page_of_a_bpss_administrator_shows_no_secret_case(seeded: Platform) -> None:
    from shareplatform.accounts import admin as users_admin
    from tests.support.web import sign_in, text

    with seeded.transaction() as session:
        lowered = users_admin.update_user(
            ctx_for(seeded, session, "user.admin"),
            "policy.admin2",
            users_admin.Changes(vetting="BPSS"),
            "moved to an uncleared post",
        )
    assert lowered.applied  # narrowing a clearance is one user administrator's job
    cs = _draft(
        seeded,
        "policy.admin",
        "SOLs stop reading SECRET",
        add=[("SOL", "record/*", "read", "SECRET", "any", "deny")],
    )
    client = app_for(seeded).test_client()
    sign_in(client, seeded, "policy.admin2")
    page = text(client.get(f"/admin/policy/drafts/{cs}"))
    assert "Some effects on material above your clearance are not shown" in page
    whatif = page[page.index('id="whatif"') :]
    assert "SP-1" not in whatif and 'data-whatif="loss-SECRET' not in whatif
    assert "Who loses access: 0" in whatif

    client = app_for(seeded).test_client()
    sign_in(client, seeded, "policy.admin")  # SC: sees it all, no notice
    page = text(client.get(f"/admin/policy/drafts/{cs}"))
    assert "above your clearance" not in page and 'data-whatif="loss-SECRET-' in page


# -- the operator's `policy import` ---------------------------------------------------------------
def _widened_file(tmp_path, extra: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "policy.csv"
    path.write_text(policy_files.render(policy_files.read()) + extra)
    return path


def test_cli_import_that_needs_a_second_administrator_is_refused_and_audited(
    platform: Platform, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    small(platform)
    app = app_for(platform)
    try:
        runner = app.test_cli_runner()
        before = _version(platform)
        widened = _widened_file(tmp_path, "# pilot\np, corridor, *, read, *, any, allow\n")
        result = runner.invoke(args=["policy", "import", str(widened)])
        assert result.exit_code == 1
        assert "second policy administrator" in result.output and "draft" in result.output
        assert _version(platform) == before
        with platform.transaction() as session:
            (entry,) = session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "policy.import", AuditEntry.outcome == "deny"
                )
            ).all()
            detail = json.loads(entry.detail)
            assert duties.SECRET_READ_WIDENED in detail["flags"] and "operator" in detail
            assert not session.scalars(
                select(PolicyVersion).where(PolicyVersion.kind == "import")
            ).all()

        tighter = _widened_file(tmp_path, "# tighter\np, KEYWORKER, plan, read, *, any, deny\n")
        result = runner.invoke(args=["policy", "import", str(tighter)])
        assert result.exit_code == 0, result.output
        assert _version(platform) == before + 1
    finally:
        app.extensions["shareplatform"].db.dispose()


def test_cli_import_still_loads_the_first_policy(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    empty = fresh_platform(db_url, tmp_path / "keys", policy=False)
    app = app_for(empty)
    try:
        result = app.test_cli_runner().invoke(args=["policy", "import", "--if-empty"])
        assert result.exit_code == 0, result.output
        with empty.transaction() as session:
            assert len(store.load_rules(session)) == len(policy_files.read())
            (version,) = session.scalars(select(PolicyVersion)).all()
            assert version.kind == "import" and version.approver_id is None
            assert json.loads(
                session.scalars(select(AuditEntry).where(AuditEntry.action == "policy.import"))
                .one()
                .detail
            )["first"]
    finally:
        app.extensions["shareplatform"].db.dispose()
        empty.db.dispose()
