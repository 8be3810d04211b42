"""notifications: in-app notifications, reminder marks, body and user notification settings

Revision ID: notifications_0003
Revises: notifications_0002
Create Date: 2027-01-10 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'notifications_0003'
down_revision = 'notifications_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=400), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_notifications_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index('ix_notifications_user_read', ['user_id', 'read_at'], unique=False)

    op.create_table('reminder_marks',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_reminder_marks'))
    )
    with op.batch_alter_table('reminder_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_marks_created_at'), ['created_at'], unique=False)

    op.create_table('body_notification_settings',
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('reminder_offsets', sa.JSON(), nullable=True),
    sa.Column('deadline_offsets', sa.JSON(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_body_notification_settings_body_id_bodies'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('body_id', name=op.f('pk_body_notification_settings'))
    )
    op.create_table('user_notification_settings',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.Boolean(), nullable=False),
    sa.Column('sms', sa.Boolean(), nullable=False),
    sa.Column('push', sa.Boolean(), nullable=False),
    sa.Column('inapp', sa.Boolean(), nullable=False),
    sa.Column('quiet_from', sa.String(length=5), nullable=True),
    sa.Column('quiet_until', sa.String(length=5), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_notification_settings_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_notification_settings'))
    )


def downgrade() -> None:
    op.drop_table('user_notification_settings')
    op.drop_table('body_notification_settings')
    with op.batch_alter_table('reminder_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_marks_created_at'))
    op.drop_table('reminder_marks')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_read')
        batch_op.drop_index(batch_op.f('ix_notifications_meeting_id'))
    op.drop_table('notifications')
