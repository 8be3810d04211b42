"""documents: the Office original a PDF was converted from, and the OCR text layer

Revision ID: documents_0001
Revises:
Create Date: 2027-01-20 09:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'documents_0001'
down_revision = None
branch_labels = ('documents',)
depends_on = 'foundation_0008'


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_filename', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('source_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('source_format', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('text_layer', sa.String(length=20), nullable=False, server_default='text'))
        batch_op.add_column(sa.Column('ocr_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('ocr_error', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        for name in ('ocr_error', 'ocr_sha256', 'text_layer', 'source_format', 'source_sha256', 'source_filename'):
            batch_op.drop_column(name)
