"""Lifecycle tables: stage transitions, recorded steps, transition checklists, risk management
plans and the assessment sharing log. Every table is append-only: a change is a new row."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..crypto.attested import Attested
from ..crypto.sealed import Sealed
from ..db import Base, new_id, utcnow
from ..domain.errors import NotPermitted


class StageTransition(Sealed, Base):
    """A case moved to a stage: who, when, why, and what was still outstanding then."""

    __tablename__ = "lifecycle_transitions"
    __sealed__ = ("rationale_ct",)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    from_stage: Mapped[str] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[date] = mapped_column(Date)
    outstanding: Mapped[str] = mapped_column(String(400), default="")  # item codes, comma-separated
    by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rationale_ct: Mapped[bytes] = mapped_column(LargeBinary)


class LifecycleStep(Sealed, Base):
    """A recorded fact of the workflow (referral, CIM level, triage, handover...); latest counts."""

    __tablename__ = "lifecycle_steps"
    __sealed__ = ("note_ct",)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(120), default="")
    occurred_on: Mapped[date] = mapped_column(Date)
    record_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.id"))
    by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class TransitionChecklist(Attested, Base):
    """DA and safeguarding enquiries due at one transition (release, leaving AP, transfer, end)."""

    __tablename__ = "transition_checklists"
    __facts__ = ("case_id", "owner_id")
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    transition: Mapped[str] = mapped_column(String(24))
    due_on: Mapped[date] = mapped_column(Date)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    opened_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChecklistEntry(Sealed, Base):
    """One enquiry's outcome on a checklist; a later entry for the same enquiry supersedes it."""

    __tablename__ = "checklist_entries"
    __sealed__ = ("reason_ct",)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    checklist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("transition_checklists.id"), index=True
    )
    enquiry: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.id"))
    by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class RiskPlan(Sealed, Base):
    """One version of a case's risk management plan (rec 13/18); text sealed (OS by default)."""

    __tablename__ = "risk_plans"
    __sealed__ = (
        "supervision_ct",
        "monitoring_ct",
        "interventions_ct",
        "victim_safety_ct",
        "contingency_ct",
        "licence_conditions_ct",
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    covers: Mapped[str] = mapped_column(String(80))  # risk codes, comma-separated
    effective_on: Mapped[date] = mapped_column(Date)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    supervision_ct: Mapped[bytes] = mapped_column(LargeBinary)
    monitoring_ct: Mapped[bytes] = mapped_column(LargeBinary)
    interventions_ct: Mapped[bytes] = mapped_column(LargeBinary)
    victim_safety_ct: Mapped[bytes] = mapped_column(LargeBinary)
    contingency_ct: Mapped[bytes] = mapped_column(LargeBinary)
    licence_conditions_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_risk_plans_case_version"),)


class PlanBasis(Base):
    """An assessment or enquiry a plan version rests on, with its date as it stood then."""

    __tablename__ = "risk_plan_basis"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("risk_plans.id"), index=True)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(40))
    dated: Mapped[date] = mapped_column(Date)


class PlanCountersignature(Base):
    """The SOL's countersignature of one plan version."""

    __tablename__ = "risk_plan_countersignatures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("risk_plans.id"), unique=True)
    by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AssessmentHandling(Sealed, Base):
    """Handling rule of one ERG/PGF: who may receive it, with instructions (latest wins)."""

    __tablename__ = "assessment_handling"
    __sealed__ = ("instructions_ct",)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    audiences: Mapped[str] = mapped_column(String(200))  # roles, comma-separated
    set_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    instructions_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class AssessmentShare(Base):
    """Sharing log: who received which version of an assessment, when, from whom."""

    __tablename__ = "assessment_shares"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    shared_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    shared_at: Mapped[datetime] = mapped_column(default=utcnow)


APPEND_ONLY = (
    StageTransition,
    LifecycleStep,
    TransitionChecklist,
    ChecklistEntry,
    RiskPlan,
    PlanBasis,
    PlanCountersignature,
    AssessmentHandling,
    AssessmentShare,
)


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _context: object, _instances: object) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, APPEND_ONLY) and (obj in session.deleted or session.is_modified(obj)):
            raise NotPermitted(
                "Lifecycle records cannot be changed or deleted: record a new entry instead."
            )


from . import release_models  # noqa: E402,F401 (licence conditions, handover: found with the models)
