"""documents: the upload as received is kept beside the disarmed copy that is delivered

Revision ID: foundation_0006
Revises: foundation_0005
Create Date: 2026-12-20 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'foundation_0006'
down_revision = 'foundation_0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('disarmed', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('signed_original', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    # Documents uploaded before: what is delivered is what was uploaded (not disarmed).
    op.execute("UPDATE documents SET original_sha256 = sha256")
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.alter_column('original_sha256', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f('ix_documents_original_sha256'), ['original_sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_original_sha256'))
        batch_op.drop_column('signed_original')
        batch_op.drop_column('disarmed')
        batch_op.drop_column('original_sha256')
