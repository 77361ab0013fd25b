"""Attested authorisation facts: a stamp (HMAC made with a key the database does not hold) on
every row whose columns an access decision reads, and the digest of the live policy

Rows that exist before this revision carry no stamp; `db upgrade` stamps them once, with the
keys, and audits it as `facts.adopt` (shareplatform/cli.py).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ATTESTED = (
    "users",
    "user_sessions",
    "api_tokens",
    "cases",
    "team_memberships",
    "break_glass",
    "transition_checklists",
    "policy_state",
    "nominals",
    "mappa_level_changes",
    "records",
    "mappa_meetings",
    "mappa_closed_parts",
    "mappa_disclosures",
    "mappa_decisions",
    "mappa_actions",
    "mappa_action_status",
    "mappa_breakouts",
    "lifecycle_transitions",
    "lifecycle_steps",
    "checklist_entries",
    "risk_plans",
    "assessment_handling",
    "recovery_codes",
    "user_change_requests",
)


def upgrade() -> None:
    for table in ATTESTED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("facts_mac", sa.LargeBinary(32), nullable=True))
    with op.batch_alter_table("policy_state") as batch:
        batch.add_column(sa.Column("rules_digest", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("policy_state") as batch:
        batch.drop_column("rules_digest")
    for table in reversed(ATTESTED):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("facts_mac")
