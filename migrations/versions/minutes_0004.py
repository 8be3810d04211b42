"""minutes: the body's register of minutes numbers, per year

Revision ID: minutes_0004
Revises: minutes_0003
Create Date: 2026-12-01 19:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'minutes_0004'
down_revision = 'minutes_0003'
branch_labels = None
depends_on = 'foundation_0002'


def upgrade() -> None:
    op.create_table('minutes_registers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_minutes_registers_body_id_bodies'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_registers')),
    sa.UniqueConstraint('body_id', 'year', name=op.f('uq_minutes_registers_body_id_year'))
    )
    with op.batch_alter_table('minutes_registers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_registers_body_id'), ['body_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('minutes_registers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_registers_body_id'))
    op.drop_table('minutes_registers')
