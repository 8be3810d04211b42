"""enrolment: one-time links that sign a tablet in as one delegate

Revision ID: enrolment_0001
Revises:
Create Date: 2027-01-21 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'enrolment_0001'
down_revision = None
branch_labels = ('enrolment',)
depends_on = 'foundation_0008'


def upgrade() -> None:
    op.create_table(
        'enrolment_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('context', sa.String(length=40), nullable=True),
        sa.Column('label', sa.String(length=200), nullable=True),
        sa.Column('next_path', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('device', sa.String(length=40), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_enrolment_links_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_enrolment_links_issued_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'],
                                name=op.f('fk_enrolment_links_revoked_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment_links')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_enrolment_links_secret_hash')),
    )
    with op.batch_alter_table('enrolment_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_links_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolment_links_context'), ['context'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('enrolment_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolment_links_context'))
        batch_op.drop_index(batch_op.f('ix_enrolment_links_user_id'))
    op.drop_table('enrolment_links')
