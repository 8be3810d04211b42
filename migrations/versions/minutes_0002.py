"""minutes: signers' keys held at a remote CSC signing service (service URL, credential id)

Revision ID: minutes_0002
Revises: minutes_0001
Create Date: 2026-12-01 20:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'minutes_0002'
down_revision = 'minutes_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('signer_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('credential_id', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('signer_keys', schema=None) as batch_op:
        batch_op.drop_column('credential_id')
        batch_op.drop_column('service_url')
