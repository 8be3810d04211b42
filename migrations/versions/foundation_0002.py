"""bodies: what a sitting really was (sitting periods, closed_at) and the body's document settings

Revision ID: foundation_0002
Revises: 0001_foundation
Create Date: 2026-12-01 19:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'foundation_0002'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sitting_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_sitting_periods_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_sitting_periods_started_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_sitting_periods_ended_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sitting_periods'))
    )
    with op.batch_alter_table('sitting_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sitting_periods_meeting_id'), ['meeting_id'], unique=False)
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    # Existing bodies get the same defaults as new ones.
    with op.batch_alter_table('bodies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('minutes_copies', sa.Integer(), nullable=False, server_default='2'))
        batch_op.add_column(sa.Column('minutes_recipients', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('minutes_undiscussed', sa.String(length=10), nullable=False,
                                      server_default='mark'))


def downgrade() -> None:
    with op.batch_alter_table('bodies', schema=None) as batch_op:
        batch_op.drop_column('minutes_undiscussed')
        batch_op.drop_column('minutes_recipients')
        batch_op.drop_column('minutes_copies')
        batch_op.drop_column('place_name')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
    with op.batch_alter_table('sitting_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sitting_periods_meeting_id'))
    op.drop_table('sitting_periods')
