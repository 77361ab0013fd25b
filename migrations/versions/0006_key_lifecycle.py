"""Key lifecycle: KEK version states, process heartbeats, and a database guard that refuses a
data key wrapped under any KEK version that is not current

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A new or re-wrapped data key must name the level's current KEK version. On PostgreSQL the
# guard also takes a share lock on that version's row, so a rotation's switch of the current
# version waits for every transaction that wrapped under the old one: once the switch commits,
# every data key under the old version is visible to the re-wrap that follows.
_PG_FUNCTION = """
CREATE FUNCTION data_keys_current_kek() RETURNS trigger AS $$
BEGIN
    IF NEW.wrapped IS NULL THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.kek_version = OLD.kek_version
       AND NEW.wrapped = OLD.wrapped AND NEW.level = OLD.level THEN
        RETURN NEW;
    END IF;
    PERFORM 1 FROM kek_versions
     WHERE level = NEW.level AND version = NEW.kek_version AND state = 'current'
     FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'data key wrapped under KEK % v% which is not current',
            NEW.level, NEW.kek_version USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""

_SQLITE_INSERT = """
CREATE TRIGGER data_keys_current_kek_insert BEFORE INSERT ON data_keys
WHEN NEW.wrapped IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM kek_versions
     WHERE level = NEW.level AND version = NEW.kek_version AND state = 'current')
BEGIN
    SELECT RAISE(ABORT, 'data key wrapped under a KEK version that is not current');
END
"""

_SQLITE_UPDATE = """
CREATE TRIGGER data_keys_current_kek_update BEFORE UPDATE OF level, kek_version, wrapped
ON data_keys
WHEN NEW.wrapped IS NOT NULL
 AND (NEW.kek_version IS NOT OLD.kek_version OR NEW.wrapped IS NOT OLD.wrapped
      OR NEW.level IS NOT OLD.level)
 AND NOT EXISTS (
    SELECT 1 FROM kek_versions
     WHERE level = NEW.level AND version = NEW.kek_version AND state = 'current')
BEGIN
    SELECT RAISE(ABORT, 'data key wrapped under a KEK version that is not current');
END
"""


def upgrade() -> None:
    with op.batch_alter_table("kek_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=12), nullable=False, server_default="active")
        )
    op.execute("UPDATE kek_versions SET state = 'retired' WHERE retired_at IS NOT NULL")
    op.execute(
        "UPDATE kek_versions SET state = 'current' WHERE retired_at IS NULL AND version = ("
        " SELECT max(k.version) FROM kek_versions k"
        " WHERE k.level = kek_versions.level AND k.retired_at IS NULL)"
    )
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_data_keys_kek_version")
        # rotation walks one level and version in id order, a batch at a time
        batch_op.create_index("ix_data_keys_rotation", ["level", "kek_version", "id"])

    op.create_table(
        "key_holders",
        sa.Column("process", sa.String(length=80), nullable=False),
        sa.Column("host", sa.String(length=120), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("current", sa.String(length=200), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("process", name=op.f("pk_key_holders")),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER data_keys_current_kek BEFORE INSERT OR UPDATE ON data_keys"
            " FOR EACH ROW EXECUTE FUNCTION data_keys_current_kek()"
        )
    else:
        op.execute(_SQLITE_INSERT)
        op.execute(_SQLITE_UPDATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER data_keys_current_kek ON data_keys")
        op.execute("DROP FUNCTION data_keys_current_kek()")
    else:
        op.execute("DROP TRIGGER data_keys_current_kek_insert")
        op.execute("DROP TRIGGER data_keys_current_kek_update")
    op.drop_table("key_holders")
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_data_keys_rotation")
        batch_op.create_index("ix_data_keys_kek_version", ["kek_version"], unique=False)
    with op.batch_alter_table("kek_versions", schema=None) as batch_op:
        batch_op.drop_column("state")
