"""The withheld mode at its edges: SECRET decisions answer as absent ones, corrections never name a
withheld original, pages offer only what the user may do, and only the originator downgrades."""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial

import pytest
from sqlalchemy import select

from shareplatform.audit.models import AuditEntry
from shareplatform.domain.errors import NotFound, NotPermitted
from shareplatform.mappa import exports
from shareplatform.mappa.models import MappaDecision
from shareplatform.mappa.reading import decision_page
from shareplatform.records.services import NewRecord, correct_record, post_record, timeline
from tests.factories import ctx_for
from tests.security.demo_support import case_by_ref, reading


def _answer(fn) -> tuple[type, str]:  # type: ignore[no-untyped-def]
    try:
        fn()
    except (NotFound, NotPermitted) as exc:
        return type(exc), str(exc)
    raise AssertionError("expected a refusal")


@pytest.mark.parametrize("username", ["com.cole", "pom.parker", "mappa.morgan", "auditor.adams"])
def test_secret_decision_answers_as_unknown(seeded, username: str) -> None:  # type: ignore[no-untyped-def]
    with reading(seeded, username) as ctx:
        secret = ctx.session.scalar(
            select(MappaDecision.id).where(MappaDecision.classification == "SECRET")
        )
        assert secret is not None
        absent = _answer(lambda: decision_page(ctx, uuid.uuid4()))
        assert absent[0] is NotFound
        assert _answer(lambda: decision_page(ctx, secret)) == absent


def _note(label: str, title: str) -> NewRecord:
    return NewRecord("CONTACT_OFFICE", date.today(), label, [], title, f"{title} body")


def test_correction_never_names_a_withheld_original(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded.transaction() as session:
        honsu = ctx_for(seeded, session, "honsu.hughes")
        case = case_by_ref(honsu, "SP-1001")
        original = post_record(honsu, case.id, _note("SECRET", "Secret original"))
        session.flush()
        fixed = correct_record(
            honsu, original.id, _note("OFFICIAL-SENSITIVE", "Sanitised"), "released by me"
        )
    with reading(seeded, "com.cole") as ctx:
        views = {getattr(i, "id", None): i for i in timeline(ctx, case.id).items}
        assert original.id not in views
        assert views[fixed.id].supersedes_id is None  # the SECRET original is not named
    with reading(seeded, "honsu.hughes") as ctx:
        views = {getattr(i, "id", None): i for i in timeline(ctx, case.id).items}
        assert views[fixed.id].supersedes_id == original.id
        assert views[original.id].superseded_by == fixed.id


@pytest.mark.parametrize("username", ["com.cole", "pom.parker"])
def test_minutes_export_offered_only_where_allowed(seeded, username: str) -> None:  # type: ignore[no-untyped-def]
    with reading(seeded, username) as ctx:
        case = case_by_ref(ctx, "SP-1001")
        assert exports.export_caps(ctx, case) == []
        assert not exports.may_export_decisions(ctx, case)
    with reading(seeded, "honsu.hughes") as ctx:
        assert "SECRET" in exports.export_caps(ctx, case_by_ref(ctx, "SP-1001"))


def test_only_the_originator_downgrades(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded.transaction() as session:
        honsu = ctx_for(seeded, session, "honsu.hughes")
        case = case_by_ref(honsu, "SP-1001")
        original = post_record(honsu, case.id, _note("SECRET", "Secret original"))
    with seeded.transaction() as session:
        sol = ctx_for(seeded, session, "sol.santos")  # corridor, oversight of the North unit
        with pytest.raises(NotPermitted, match="originator"):
            correct_record(sol, original.id, _note("OFFICIAL-SENSITIVE", "Lowered"), "tidy")
        # at the same label a correction stays open to other corridor managers
        fixed = correct_record(sol, original.id, _note("SECRET", "Fixed typo"), "typo")
    with seeded.transaction() as session:
        # ... which does not make the material theirs to lower: the original is still honsu's
        sol = ctx_for(seeded, session, "sol.santos")
        with pytest.raises(NotPermitted, match="originator"):
            correct_record(sol, fixed.id, _note("OFFICIAL-SENSITIVE", "Lowered"), "tidy")
    with seeded.transaction() as session:
        refused = session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "record.downgrade", AuditEntry.object_id == str(original.id)
            )
        )
        assert refused is not None and refused.outcome == "deny"


@pytest.fixture
def ordinary_decision(platform):  # type: ignore[no-untyped-def]
    """An OFFICIAL-SENSITIVE decision resting on no disclosure, signed by the chair (honsu)."""
    from tests.integration.mappa_world import build_world, decide, decision_data, meeting

    world = build_world(platform)
    with platform.transaction() as s:
        mt = meeting(world, s)
        dec = decide(world, s, decision_data(world, mt.id, [], **ORDINARY)).id

    def data(**kw):  # type: ignore[no-untyped-def]
        return decision_data(world, mt.id, [], **{**ORDINARY, **kw})

    return world, dec, data


ORDINARY = {"caveats": (), "actions": [], "classification": "OFFICIAL-SENSITIVE"}


def test_only_the_signer_lowers_a_decision(ordinary_decision) -> None:  # type: ignore[no-untyped-def]
    """docs/domain.md, "Labels": a MAPPA decision corrected to a lower label by anyone but the
    chair who signed it is refused (shareplatform/domain/rules.py `lowers`). At the same label the
    correction stands, but that does not make the material its corrector's to lower: every
    version above the new label counts (shareplatform/casework.py `originators`)."""
    from shareplatform.mappa.services import correct_decision, prepare_correction

    world, dec, data = ordinary_decision
    lowered = data(classification="OFFICIAL", decision="Lowered")
    with world.platform.transaction() as s, pytest.raises(NotPermitted, match="originator"):
        prepare_correction(world.ctx(s, "lro"), dec, lowered, "Tidying the label")  # co-chair
    with world.platform.transaction() as s:
        same = data(decision="Typo fixed")
        prepared = prepare_correction(world.ctx(s, "lro"), dec, same, "Typo")
        fixed = correct_decision(world.ctx(s, "lro"), dec, same, "Typo", prepared.token).id
    with world.platform.transaction() as s, pytest.raises(NotPermitted, match="originator"):
        # two steps: lro signed the correction, but the original is honsu's
        prepare_correction(world.ctx(s, "lro"), fixed, lowered, "Lowering")
    with world.platform.transaction() as s:
        refused = s.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "mappa.decision.downgrade",
                AuditEntry.object_id == str(fixed),
            )
        )
        assert refused is not None and refused.outcome == "deny"


def test_the_chair_who_signed_a_decision_lowers_it(ordinary_decision) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.mappa.services import correct_decision, prepare_correction

    world, dec, data = ordinary_decision
    lowered = data(classification="OFFICIAL", decision="Lowered")
    with world.platform.transaction() as s:
        prepared = prepare_correction(world.ctx(s, "honsu"), dec, lowered, "Released by me")
        lower = correct_decision(
            world.ctx(s, "honsu"), dec, lowered, "Released by me", prepared.token
        )
        assert lower.classification == "OFFICIAL"


def test_a_corrector_does_not_lower_a_secret_decision_they_did_not_sign(platform) -> None:  # type: ignore[no-untyped-def]
    """The review's case: a corridor manager corrects the chair's SECRET decision at SECRET, then
    tries to lower their own correction."""
    from shareplatform.mappa.services import correct_decision, prepare_correction
    from tests.integration.mappa_world import (
        build_world,
        decide,
        decision_data,
        disclosure,
        meeting,
    )

    world = build_world(platform)
    with platform.transaction() as s:
        mt = meeting(world, s)
        rests_on = [disclosure(world, s).id]
        dec = decide(world, s, decision_data(world, mt.id, rests_on, actions=[])).id
    secret = decision_data(world, mt.id, rests_on, actions=[], decision="Typo fixed")
    lowered = decision_data(
        world, mt.id, [], actions=[], caveats=(), classification="OFFICIAL-SENSITIVE"
    )
    with platform.transaction() as s:
        prepared = prepare_correction(world.ctx(s, "lro"), dec, secret, "Typo")
        fixed = correct_decision(world.ctx(s, "lro"), dec, secret, "Typo", prepared.token).id
    with platform.transaction() as s, pytest.raises(NotPermitted, match="originator"):
        prepare_correction(world.ctx(s, "lro"), fixed, lowered, "Lowering my correction")


def test_a_disclosure_id_tells_nothing_to_one_not_on_the_panel(platform) -> None:  # type: ignore[no-untyped-def]
    """The permission is decided before the disclosures named are looked up: a corridor manager
    off the panel gets the same refusal for a real disclosure as for a made-up one."""
    from shareplatform.mappa.services import prepare_decision
    from tests.integration.mappa_world import build_world, decision_data, disclosure, meeting

    world = build_world(platform)
    with platform.transaction() as s:
        mt, real = meeting(world, s), disclosure(world, s)
    answers = []
    for named in (real.id, uuid.uuid4()):
        with platform.transaction() as s:
            data = decision_data(world, mt.id, [named], actions=[])
            answers.append(
                _answer(partial(prepare_decision, world.ctx(s, "sol2"), mt.case_id, data))
            )
    assert answers[0] == answers[1] and answers[0][0] is NotPermitted


def test_a_refused_decision_downgrade_is_audited(ordinary_decision) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.mappa.services import prepare_correction

    world, dec, data = ordinary_decision
    with world.platform.transaction() as s:
        before = _denials(s)
        with pytest.raises(NotPermitted, match="originator"):
            prepare_correction(world.ctx(s, "lro"), dec, data(classification="OFFICIAL"), "Tidy")
    with world.platform.transaction() as s:
        refused = _denials(s) - before
    assert sorted(refused) == [("lro", str(dec))]


def _denials(session) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    rows = session.execute(
        select(AuditEntry.actor, AuditEntry.object_id).where(AuditEntry.outcome == "deny")
    )
    return {(actor, object_id) for actor, object_id in rows}
