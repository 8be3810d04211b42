"""voting: encrypted secret ballots, the counting committee and its key ceremony

Revision ID: voting_0002
Revises: voting_0001
Create Date: 2026-12-05 10:00:00

A secret poll left "closing" by the old scheme already holds its computed result
(only the scrub of the tally's history was pending): it becomes "closed". Downgrading
turns a "counting" poll (no result yet) back into "closing", which the old code
withholds from everyone.
"""
import sqlalchemy as sa
from alembic import op

revision = 'voting_0002'
down_revision = 'voting_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('counting_committees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_counting_committees_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_counting_committees_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counting_committees')),
    sa.UniqueConstraint('uid', name=op.f('uq_counting_committees_uid'))
    )
    with op.batch_alter_table('counting_committees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counting_committees_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('committee_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('round1', sa.JSON(), nullable=True),
    sa.Column('verification_key', sa.String(length=64), nullable=True),
    sa.Column('complaint_against', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['committee_id'], ['counting_committees.id'], name=op.f('fk_committee_members_committee_id_counting_committees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_committee_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_members')),
    sa.UniqueConstraint('committee_id', 'index', name=op.f('uq_committee_members_committee_id_index')),
    sa.UniqueConstraint('committee_id', 'user_id', name=op.f('uq_committee_members_committee_id_user_id'))
    )
    with op.batch_alter_table('committee_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_committee_members_committee_id'), ['committee_id'], unique=False)

    op.create_table('key_share_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('sender_index', sa.Integer(), nullable=False),
    sa.Column('recipient_index', sa.Integer(), nullable=False),
    sa.Column('ephemeral', sa.String(length=64), nullable=False),
    sa.Column('ciphertext', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['committee_id'], ['counting_committees.id'], name=op.f('fk_key_share_messages_committee_id_counting_committees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_share_messages')),
    sa.UniqueConstraint('committee_id', 'sender_index', 'recipient_index', name=op.f('uq_key_share_messages_committee_id_sender_index_recipient_index'))
    )

    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('committee_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('board_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('public_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('encrypted_tally', sa.JSON(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_polls_committee_id_counting_committees'), 'counting_committees', ['committee_id'], ['id'], ondelete='SET NULL')

    # WITHOUT ROWID on SQLite (ignored elsewhere): rows stored in key order, not arrival order.
    op.create_table('secret_ballots_cast',
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.Column('cast_by_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cast_by_id'], ['users.id'], name=op.f('fk_secret_ballots_cast_cast_by_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], name=op.f('fk_secret_ballots_cast_poll_id_polls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voter_id'], ['users.id'], name=op.f('fk_secret_ballots_cast_voter_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('poll_id', 'voter_id', name=op.f('pk_secret_ballots_cast')),
    sqlite_with_rowid=False
    )
    op.create_table('encrypted_ballots',
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], name=op.f('fk_encrypted_ballots_poll_id_polls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('poll_id', 'hash', name=op.f('pk_encrypted_ballots')),
    sqlite_with_rowid=False
    )
    op.create_table('partial_decryptions',
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('member_index', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('shares', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], name=op.f('fk_partial_decryptions_poll_id_polls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('poll_id', 'member_index', name=op.f('pk_partial_decryptions'))
    )
    op.execute("UPDATE polls SET status = 'closed' WHERE status = 'closing'")


def downgrade() -> None:
    op.execute("UPDATE polls SET status = 'closing' WHERE status = 'counting'")
    op.drop_table('partial_decryptions')
    op.drop_table('encrypted_ballots')
    op.drop_table('secret_ballots_cast')
    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_polls_committee_id_counting_committees'), type_='foreignkey')
        batch_op.drop_column('encrypted_tally')
        batch_op.drop_column('public_key')
        batch_op.drop_column('board_id')
        batch_op.drop_column('committee_id')
    op.drop_table('key_share_messages')
    with op.batch_alter_table('committee_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_committee_members_committee_id'))
    op.drop_table('committee_members')
    with op.batch_alter_table('counting_committees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counting_committees_meeting_id'))
    op.drop_table('counting_committees')
