"""accounts: a phone number per user, for SMS reminders

Revision ID: foundation_0007
Revises: foundation_0006
Create Date: 2027-01-10 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'foundation_0007'
down_revision = 'foundation_0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('phone')
