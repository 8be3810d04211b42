"""conclusions: conclusion notices (thông báo kết luận), their numbered conclusions, register and settings

Revision ID: conclusions_0001
Revises:
Create Date: 2026-12-02 01:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'conclusions_0001'
down_revision = None
branch_labels = ('conclusions',)
depends_on = 'foundation_0008'


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        'conclusion_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('body_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('number', sa.String(length=60), nullable=True),
        sa.Column('subject', sa.String(length=1000), nullable=False),
        sa.Column('opening_text', sa.Text(), nullable=True),
        sa.Column('recipients', sa.JSON(), nullable=False),
        sa.Column('recipient_unit_ids', sa.JSON(), nullable=False),
        sa.Column('extra_emails', sa.JSON(), nullable=False),
        sa.Column('send_to_participants', sa.Boolean(), nullable=False),
        sa.Column('signing_mode', sa.String(length=20), nullable=False),
        sa.Column('sign_head', sa.String(length=10), nullable=False),
        sa.Column('signer_title', sa.String(length=200), nullable=True),
        sa.Column('signer_id', sa.Integer(), nullable=True),
        sa.Column('edited', sa.Boolean(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('page_count', sa.Integer(), nullable=True),
        sa.Column('box', sa.JSON(), nullable=False),
        sa.Column('signed_by_id', sa.Integer(), nullable=True),
        sa.Column('signer_name', sa.String(length=200), nullable=True),
        sa.Column('certificate_subject', sa.String(length=500), nullable=True),
        sa.Column('key_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_count', sa.Integer(), nullable=False),
        _fk('conclusion_notices', 'meeting_id', 'meetings', 'CASCADE'),
        _fk('conclusion_notices', 'body_id', 'bodies', 'CASCADE'),
        _fk('conclusion_notices', 'signer_id', 'users', 'SET NULL'),
        _fk('conclusion_notices', 'signed_by_id', 'users', 'SET NULL'),
        _fk('conclusion_notices', 'key_id', 'signer_keys', 'SET NULL'),
        _fk('conclusion_notices', 'created_by_id', 'users', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conclusion_notices')),
        sa.UniqueConstraint('meeting_id', name=op.f('uq_conclusion_notices_meeting_id')),
    )
    with op.batch_alter_table('conclusion_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conclusion_notices_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conclusion_notices_body_id'), ['body_id'], unique=False)
    op.create_table(
        'conclusion_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('agenda_item_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        _fk('conclusion_items', 'notice_id', 'conclusion_notices', 'CASCADE'),
        _fk('conclusion_items', 'agenda_item_id', 'agenda_items', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conclusion_items')),
        sa.UniqueConstraint('notice_id', 'number', name=op.f('uq_conclusion_items_notice_id_number')),
    )
    with op.batch_alter_table('conclusion_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conclusion_items_notice_id'), ['notice_id'], unique=False)
    op.create_table(
        'conclusion_registers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('body_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        _fk('conclusion_registers', 'body_id', 'bodies', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conclusion_registers')),
        sa.UniqueConstraint('body_id', 'year', name=op.f('uq_conclusion_registers_body_id_year')),
    )
    with op.batch_alter_table('conclusion_registers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conclusion_registers_body_id'), ['body_id'], unique=False)
    op.create_table(
        'conclusion_settings',
        sa.Column('body_id', sa.Integer(), nullable=False),
        sa.Column('signing_mode', sa.String(length=20), nullable=False),
        sa.Column('sign_head', sa.String(length=10), nullable=False),
        sa.Column('chair_title', sa.String(length=200), nullable=False),
        sa.Column('office_chief_id', sa.Integer(), nullable=True),
        sa.Column('office_chief_title', sa.String(length=200), nullable=False),
        sa.Column('recipients', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        _fk('conclusion_settings', 'body_id', 'bodies', 'CASCADE'),
        _fk('conclusion_settings', 'office_chief_id', 'users', 'SET NULL'),
        sa.PrimaryKeyConstraint('body_id', name=op.f('pk_conclusion_settings')),
    )


def downgrade() -> None:
    op.drop_table('conclusion_settings')
    with op.batch_alter_table('conclusion_registers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conclusion_registers_body_id'))
    op.drop_table('conclusion_registers')
    with op.batch_alter_table('conclusion_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conclusion_items_notice_id'))
    op.drop_table('conclusion_items')
    with op.batch_alter_table('conclusion_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conclusion_notices_body_id'))
        batch_op.drop_index(batch_op.f('ix_conclusion_notices_meeting_id'))
    op.drop_table('conclusion_notices')
