"""bodies: units (departments) of a body and their members

Revision ID: foundation_0008
Revises: foundation_0007
Create Date: 2027-01-20 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'foundation_0008'
down_revision = 'foundation_0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'units',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('body_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('short_name', sa.String(length=50), nullable=True),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('body_id', 'name'),
    )
    op.create_index(op.f('ix_units_body_id'), 'units', ['body_id'], unique=False)
    op.create_table(
        'unit_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('is_head', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('unit_id', 'user_id'),
    )
    op.create_index(op.f('ix_unit_members_unit_id'), 'unit_members', ['unit_id'], unique=False)
    op.create_index(op.f('ix_unit_members_user_id'), 'unit_members', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_unit_members_user_id'), table_name='unit_members')
    op.drop_index(op.f('ix_unit_members_unit_id'), table_name='unit_members')
    op.drop_table('unit_members')
    op.drop_index(op.f('ix_units_body_id'), table_name='units')
    op.drop_table('units')
