"""accounts: users.clearance, the highest meeting confidentiality an archivist may read

Revision ID: foundation_0003
Revises: foundation_0002
Create Date: 2026-12-02 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'foundation_0003'
down_revision = 'foundation_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing accounts get the default of new ones: an archivist reads normal and internal meetings
    # until an administrator raises the clearance.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clearance', sa.String(length=20), nullable=False,
                                      server_default='internal'))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('clearance')
