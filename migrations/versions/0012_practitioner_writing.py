"""Practitioners never lose writing: drafts of notes, forms kept after the session ended, and
one-time form submission tokens (shareplatform/records/writing.py)

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sealed_columns() -> list[sa.Column]:
    return [
        sa.Column("classification", sa.String(length=24), nullable=False),
        sa.Column("caveats", sa.String(length=80), nullable=False),
        sa.Column("data_key_id", sa.Uuid(), nullable=False),
        sa.Column("facts_mac", sa.LargeBinary(length=32), nullable=True),
        sa.Column("content_ct", sa.LargeBinary(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "record_drafts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        *_sealed_columns(),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_record_drafts_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_record_drafts_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["data_key_id"], ["data_keys.id"], name=op.f("fk_record_drafts_data_key_id_data_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_drafts")),
        sa.UniqueConstraint("author_id", "case_id", name="uq_record_drafts_author_case"),
    )
    op.create_index(op.f("ix_record_drafts_data_key_id"), "record_drafts", ["data_key_id"])
    op.create_table(
        "kept_forms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("form_path", sa.String(length=200), nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        *_sealed_columns(),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_kept_forms_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_kept_forms_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["data_key_id"], ["data_keys.id"], name=op.f("fk_kept_forms_data_key_id_data_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_forms")),
    )
    op.create_index(op.f("ix_kept_forms_author_id"), "kept_forms", ["author_id"])
    op.create_index(op.f("ix_kept_forms_expires_at"), "kept_forms", ["expires_at"])
    op.create_index(op.f("ix_kept_forms_data_key_id"), "kept_forms", ["data_key_id"])
    op.create_table(
        "form_submissions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_form_submissions_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_form_submissions_record_id_records")
        ),
        sa.PrimaryKeyConstraint("user_id", "token", name=op.f("pk_form_submissions")),
    )
    op.create_index(op.f("ix_form_submissions_created_at"), "form_submissions", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_form_submissions_created_at"), table_name="form_submissions")
    op.drop_table("form_submissions")
    for name in ("data_key_id", "expires_at", "author_id"):
        op.drop_index(op.f(f"ix_kept_forms_{name}"), table_name="kept_forms")
    op.drop_table("kept_forms")
    op.drop_index(op.f("ix_record_drafts_data_key_id"), table_name="record_drafts")
    op.drop_table("record_drafts")
