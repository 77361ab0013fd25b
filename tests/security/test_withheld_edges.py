"""The withheld mode at its edges: SECRET decisions answer as absent ones, corrections never name a
withheld original, pages offer only what the user may do, and only the originator downgrades."""

from __future__ import annotations

import uuid
from datetime import date

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
    chair who signed it is refused (shareplatform/domain/rules.py `lowers`); at the same label the
    correction stands, and its own signer may then lower it."""
    from shareplatform.mappa.services import correct_decision, prepare_correction

    world, dec, data = ordinary_decision
    lowered = data(classification="OFFICIAL", decision="Lowered")
    with world.platform.transaction() as s, pytest.raises(NotPermitted, match="originator"):
        prepare_correction(world.ctx(s, "lro"), dec, lowered, "Tidying the label")  # co-chair
    with world.platform.transaction() as s:
        same = data(decision="Typo fixed")
        prepared = prepare_correction(world.ctx(s, "lro"), dec, same, "Typo")
        fixed = correct_decision(world.ctx(s, "lro"), dec, same, "Typo", prepared.token).id
    with world.platform.transaction() as s:
        with pytest.raises(NotPermitted, match="originator"):  # the correction is lro's now
            prepare_correction(world.ctx(s, "honsu"), fixed, lowered, "Lowering")
        prepared = prepare_correction(world.ctx(s, "lro"), fixed, lowered, "Lowering")
        lower = correct_decision(world.ctx(s, "lro"), fixed, lowered, "Lowering", prepared.token)
        assert lower.classification == "OFFICIAL"


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
