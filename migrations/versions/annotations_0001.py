"""annotations: annotations, their change clock, document read receipts

Revision ID: annotations_0001
Revises:
Create Date: 2026-11-27 05:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'annotations_0001'
down_revision = None
branch_labels = ('annotations',)
depends_on = '0001_foundation'


def upgrade() -> None:
    op.create_table('annotations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('visibility', sa.String(length=20), nullable=False),
    sa.Column('shared_with', sa.JSON(), nullable=False),
    sa.Column('color', sa.String(length=9), nullable=False),
    sa.Column('geometry', sa.JSON(), nullable=False),
    sa.Column('anchor', sa.JSON(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('target_id', sa.String(length=36), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rev', sa.Integer(), nullable=False),
    sa.Column('orphaned', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_annotations_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_annotations_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_annotations_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annotations'))
    )
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annotations_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_annotations_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_annotations_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_annotations_rev'), ['rev'], unique=False)
        batch_op.create_index(batch_op.f('ix_annotations_updated_at'), ['updated_at'], unique=False)

    op.create_table('annotation_clocks',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('rev', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_annotation_clocks_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_annotation_clocks'))
    )
    op.create_table('document_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('first_opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('open_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_views_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_document_views_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_views')),
    sa.UniqueConstraint('document_id', 'user_id', name=op.f('uq_document_views_document_id_user_id'))
    )
    with op.batch_alter_table('document_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_views_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_views_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('document_views', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_views_user_id'))
        batch_op.drop_index(batch_op.f('ix_document_views_document_id'))
    op.drop_table('document_views')
    op.drop_table('annotation_clocks')
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annotations_updated_at'))
        batch_op.drop_index(batch_op.f('ix_annotations_rev'))
        batch_op.drop_index(batch_op.f('ix_annotations_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_annotations_document_id'))
        batch_op.drop_index(batch_op.f('ix_annotations_author_id'))
    op.drop_table('annotations')
