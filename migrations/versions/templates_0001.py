"""bodies: meeting templates of a body, and the document slots of agenda items

Revision ID: templates_0001
Revises:
Create Date: 2027-01-20 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'templates_0001'
down_revision = None
branch_labels = ('templates',)
depends_on = 'foundation_0008'


def upgrade() -> None:
    op.create_table(
        'agenda_document_slots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agenda_item_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_agenda_document_slots_agenda_item_id'), 'agenda_document_slots',
                    ['agenda_item_id'], unique=False)
    op.create_table(
        'meeting_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('body_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('regular', sa.Boolean(), nullable=False),
        sa.Column('title_pattern', sa.String(length=300), nullable=False),
        sa.Column('date_rule', sa.String(length=30), nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.Column('weekday', sa.Integer(), nullable=False),
        sa.Column('week', sa.Integer(), nullable=False),
        sa.Column('start_time', sa.String(length=5), nullable=False),
        sa.Column('duration_minutes', sa.Integer(), nullable=True),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('source_meeting_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['source_meeting_id'], ['meetings.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('body_id', 'name'),
    )
    op.create_index(op.f('ix_meeting_templates_body_id'), 'meeting_templates', ['body_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_meeting_templates_body_id'), table_name='meeting_templates')
    op.drop_table('meeting_templates')
    op.drop_index(op.f('ix_agenda_document_slots_agenda_item_id'), table_name='agenda_document_slots')
    op.drop_table('agenda_document_slots')
