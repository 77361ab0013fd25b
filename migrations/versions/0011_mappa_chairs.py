"""MAPPA as chairs work: meetings corrected or withdrawn by supersession, with a sealed reason

Decisions without a disclosure, core-group meetings and the in-progress action status need no new
column (a decision's disclosures are a link table; status is a String(12)).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "mappa_meeting_supersessions"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("replacement_id", sa.Uuid(), nullable=True),
        sa.Column("by_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason_ct", sa.LargeBinary(), nullable=False),
        sa.Column("classification", sa.String(length=24), nullable=False),
        sa.Column("caveats", sa.String(length=80), nullable=False),
        sa.Column("data_key_id", sa.Uuid(), nullable=False),
        sa.Column("facts_mac", sa.LargeBinary(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["mappa_meetings.id"],
            name=op.f(f"fk_{TABLE}_meeting_id_mappa_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["replacement_id"],
            ["mappa_meetings.id"],
            name=op.f(f"fk_{TABLE}_replacement_id_mappa_meetings"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f(f"fk_{TABLE}_case_id_cases")),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f(f"fk_{TABLE}_by_id_users")),
        sa.ForeignKeyConstraint(
            ["data_key_id"], ["data_keys.id"], name=op.f(f"fk_{TABLE}_data_key_id_data_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.UniqueConstraint("meeting_id", name=op.f(f"uq_{TABLE}_meeting_id")),
        sa.UniqueConstraint("replacement_id", name=op.f(f"uq_{TABLE}_replacement_id")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{TABLE}_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f(f"ix_{TABLE}_data_key_id"), ["data_key_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(f"ix_{TABLE}_data_key_id"))
        batch_op.drop_index(batch_op.f(f"ix_{TABLE}_case_id"))
    op.drop_table(TABLE)
