"""policy administration: versions and draft change sets

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_change_sets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("restore_of", sa.Integer(), nullable=True),
        sa.Column("approved_by_id", sa.Uuid(), nullable=True),
        sa.Column("approval_reason", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_digest", sa.String(length=64), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_policy_change_sets_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["users.id"],
            name=op.f("fk_policy_change_sets_approved_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_change_sets")),
    )
    with op.batch_alter_table("policy_change_sets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_policy_change_sets_author_id"), ["author_id"], unique=False
        )
    op.create_table(
        "policy_change_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("change_set_id", sa.Uuid(), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("ptype", sa.String(length=4), nullable=True),
        sa.Column("values", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_set_id"],
            ["policy_change_sets.id"],
            name=op.f("fk_policy_change_lines_change_set_id_policy_change_sets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_change_lines")),
    )
    with op.batch_alter_table("policy_change_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_policy_change_lines_change_set_id"), ["change_set_id"], unique=False
        )
    op.create_table(
        "policy_versions",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("approver_id", sa.Uuid(), nullable=True),
        sa.Column("change_set_id", sa.Uuid(), nullable=True),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("state_version", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_policy_versions_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["users.id"], name=op.f("fk_policy_versions_approver_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["change_set_id"],
            ["policy_change_sets.id"],
            name=op.f("fk_policy_versions_change_set_id_policy_change_sets"),
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_policy_versions")),
    )


def downgrade() -> None:
    op.drop_table("policy_versions")
    with op.batch_alter_table("policy_change_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_change_lines_change_set_id"))
    op.drop_table("policy_change_lines")
    with op.batch_alter_table("policy_change_sets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_change_sets_author_id"))
    op.drop_table("policy_change_sets")
