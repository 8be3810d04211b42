"""notifications: invitations owed to a group added at once, composed by the job queue

Revision ID: notifications_0004
Revises: notifications_0003
Create Date: 2027-01-20 11:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'notifications_0004'
down_revision = 'notifications_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owed_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_invitations_owed_since'), ['owed_since'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_owed_since'))
        batch_op.drop_column('owed_since')
