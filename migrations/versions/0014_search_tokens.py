"""Search tokens of nominals (partial, phonetic, date of birth) and in-app notifications

Revision ID: 0014
Revises: 0013

Nominals created from this revision on get their tokens where they are created
(shareplatform/cases/services.py, add_nominal). A migration cannot back-fill older nominals: their
names are sealed and a migration holds no keys (docs/architecture.md, "Search tokens"). After
upgrading, run `flask search backfill-tokens` once (shareplatform/cli.py): it opens their names
through the system read path, in batches, and may be re-run safely.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nominal_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("nominal_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["nominal_id"],
            ["nominals.id"],
            name=op.f("fk_nominal_tokens_nominal_id_nominals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nominal_tokens")),
    )
    with op.batch_alter_table("nominal_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_nominal_tokens_digest", ["digest"], unique=False)
        batch_op.create_index("ix_nominal_tokens_nominal", ["nominal_id"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["users.id"],
            name=op.f("fk_notifications_recipient_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_notifications_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_recipient", ["recipient_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_notifications_object", ["object_id", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_object")
        batch_op.drop_index("ix_notifications_recipient")
    op.drop_table("notifications")
    with op.batch_alter_table("nominal_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_nominal_tokens_nominal")
        batch_op.drop_index("ix_nominal_tokens_digest")
    op.drop_table("nominal_tokens")
