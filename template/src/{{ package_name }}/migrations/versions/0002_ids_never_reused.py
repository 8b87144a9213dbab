"""Ids are never handed out twice, so nothing that names an old id finds a new row.

PostgreSQL sequences and MySQL's AUTO_INCREMENT never reuse an id. SQLite reuses
the highest id after a delete unless the table says AUTOINCREMENT, which only a
copy of the table can add.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("users", "posts")


def recreate_tables(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    recreate_tables(autoincrement=True)


def downgrade() -> None:
    recreate_tables(autoincrement=False)
