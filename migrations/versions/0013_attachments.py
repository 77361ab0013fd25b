"""Attachments on records and MAPPA decisions; licence conditions and the release handover list

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("attachment_contents", "attachments", "licence_conditions", "handover_ticks")


def upgrade() -> None:
    op.create_table(
        "handover_ticks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("by_id", sa.Uuid(), nullable=False),
        sa.Column("by_role", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note_ct", sa.LargeBinary(), nullable=True),
        sa.Column("classification", sa.String(length=24), nullable=False),
        sa.Column("caveats", sa.String(length=80), nullable=False),
        sa.Column("data_key_id", sa.Uuid(), nullable=False),
        sa.Column("facts_mac", sa.LargeBinary(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["by_id"], ["users.id"], name=op.f("fk_handover_ticks_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_handover_ticks_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["data_key_id"], ["data_keys.id"], name=op.f("fk_handover_ticks_data_key_id_data_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_ticks")),
    )
    op.create_index(op.f("ix_handover_ticks_case_id"), "handover_ticks", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_handover_ticks_data_key_id"), "handover_ticks", ["data_key_id"], unique=False
    )
    op.create_table(
        "licence_conditions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("condition_type", sa.String(length=32), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details_ct", sa.LargeBinary(), nullable=True),
        sa.Column("classification", sa.String(length=24), nullable=False),
        sa.Column("caveats", sa.String(length=80), nullable=False),
        sa.Column("data_key_id", sa.Uuid(), nullable=False),
        sa.Column("facts_mac", sa.LargeBinary(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_licence_conditions_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_licence_conditions_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["data_key_id"],
            ["data_keys.id"],
            name=op.f("fk_licence_conditions_data_key_id_data_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["licence_conditions.id"],
            name=op.f("fk_licence_conditions_supersedes_id_licence_conditions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_conditions")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_licence_conditions_supersedes_id")),
    )
    op.create_index(
        op.f("ix_licence_conditions_case_id"), "licence_conditions", ["case_id"], unique=False
    )
    op.create_index(
        op.f("ix_licence_conditions_data_key_id"),
        "licence_conditions",
        ["data_key_id"],
        unique=False,
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("parent_kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=True),
        sa.Column("decision_id", sa.Uuid(), nullable=True),
        sa.Column("file_type", sa.String(length=8), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filename_ct", sa.LargeBinary(), nullable=False),
        sa.Column("classification", sa.String(length=24), nullable=False),
        sa.Column("caveats", sa.String(length=80), nullable=False),
        sa.Column("data_key_id", sa.Uuid(), nullable=False),
        sa.Column("facts_mac", sa.LargeBinary(length=32), nullable=True),
        sa.CheckConstraint(
            "(record_id IS NULL) <> (decision_id IS NULL)", name=op.f("ck_attachments_one_parent")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_attachments_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_attachments_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["data_key_id"], ["data_keys.id"], name=op.f("fk_attachments_data_key_id_data_keys")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["mappa_decisions.id"],
            name=op.f("fk_attachments_decision_id_mappa_decisions"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_attachments_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index(op.f("ix_attachments_case_id"), "attachments", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_attachments_data_key_id"), "attachments", ["data_key_id"], unique=False
    )
    op.create_index(
        op.f("ix_attachments_decision_id"), "attachments", ["decision_id"], unique=False
    )
    op.create_index(op.f("ix_attachments_record_id"), "attachments", ["record_id"], unique=False)
    op.create_table(
        "attachment_contents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("attachment_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("filename_ct", sa.LargeBinary(), nullable=False),
        sa.Column("content_ct", sa.LargeBinary(), nullable=False),
        sa.Column("classification", sa.String(length=24), nullable=False),
        sa.Column("caveats", sa.String(length=80), nullable=False),
        sa.Column("data_key_id", sa.Uuid(), nullable=False),
        sa.Column("facts_mac", sa.LargeBinary(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_attachment_contents_attachment_id_attachments"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_attachment_contents_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["data_key_id"],
            ["data_keys.id"],
            name=op.f("fk_attachment_contents_data_key_id_data_keys"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment_contents")),
        sa.UniqueConstraint("attachment_id", name=op.f("uq_attachment_contents_attachment_id")),
    )
    op.create_index(
        op.f("ix_attachment_contents_case_id"), "attachment_contents", ["case_id"], unique=False
    )
    op.create_index(
        op.f("ix_attachment_contents_data_key_id"),
        "attachment_contents",
        ["data_key_id"],
        unique=False,
    )


def downgrade() -> None:
    for table in TABLES:  # contents before the attachments they belong to
        op.drop_table(table)
