"""Licence conditions: type and dates stamped; variations and endings; handover ticks stamped

A licence condition's type, start and end dates (and `change`, below) join the facts its stamp
covers (`LicenceCondition.__facts__`, shareplatform/lifecycle/release_models.py), beside the case,
author, label and the version it supersedes that were stamped already. Two columns are added:
`change` (VARIED or ENDED for a version written from the "Change" or "End condition" forms; NULL
for a condition as first added) and `reason_ct` (the reason for that change, sealed like the
details).

Rows written before this revision carry a stamp over the old facts only, so under the new stamp
they fail their check: until they are stamped again they are treated as unverified, exactly as a
tampered row is. The licence conditions page shows each as a withheld line ("failed its
integrity check", no type, dates or details), and the national standards, per case and across
cases, do not count it. `adopt_widened_stamps` (shareplatform/widened.py), run by the command
line with the system writer (it holds the keys), stamps them once in the life of the database
(audited as `licence.adopt`): only rows whose old stamp still verifies, so a row forged before
the adoption stays unverified. No key is available here, so this revision cannot stamp them.
`flask db upgrade` runs the adoption right after this revision.

Handover ticks likewise: their task, state, role and time join their stamp
(`HandoverTick.__facts__`); no column changes, and older ticks are adopted the same way
(audited as `handover.adopt`). Until then an older tick is withheld and its task reads as not
yet done. A meeting supersession's replacement joins its stamp at this revision too (no column
change; adopted as `mappa.meeting.adopt`).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("licence_conditions") as batch:
        batch.add_column(sa.Column("change", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("reason_ct", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("licence_conditions") as batch:
        batch.drop_column("reason_ct")
        batch.drop_column("change")
