"""minutes: the validation report made when minutes are published (its sha256)

Revision ID: minutes_0005
Revises: minutes_0004
Create Date: 2026-12-01 21:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'minutes_0005'
down_revision = 'minutes_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('validation_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.drop_column('validation_sha256')
