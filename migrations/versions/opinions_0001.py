"""opinions: written opinion forms (phiếu lấy ý kiến), their questions, recipients, attachments, answers

Revision ID: opinions_0001
Revises:
Create Date: 2027-02-01 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'opinions_0001'
down_revision = None
branch_labels = ('opinions',)
depends_on = 'foundation_0008'


def upgrade() -> None:
    op.create_table('opinion_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('allow_change', sa.Boolean(), nullable=False),
    sa.Column('require_signature', sa.Boolean(), nullable=False),
    sa.Column('majority_base', sa.String(length=10), nullable=False),
    sa.Column('threshold_numerator', sa.Integer(), nullable=False),
    sa.Column('threshold_denominator', sa.Integer(), nullable=False),
    sa.Column('threshold_strict', sa.Boolean(), nullable=False),
    sa.Column('tie_rule', sa.String(length=10), nullable=False),
    sa.Column('chair_id', sa.Integer(), nullable=True),
    sa.Column('signer_id', sa.Integer(), nullable=True),
    sa.Column('signer_title', sa.String(length=200), nullable=True),
    sa.Column('number', sa.String(length=50), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('report_sha256', sa.String(length=64), nullable=True),
    sa.Column('report_size', sa.Integer(), nullable=True),
    sa.Column('report_box', sa.JSON(), nullable=True),
    sa.Column('report_signed', sa.Boolean(), nullable=False),
    sa.Column('report_signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('report_signer_name', sa.String(length=200), nullable=True),
    sa.Column('report_key_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'],
                            name=op.f('fk_opinion_forms_body_id_bodies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chair_id'], ['users.id'],
                            name=op.f('fk_opinion_forms_chair_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_opinion_forms_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'],
                            name=op.f('fk_opinion_forms_meeting_id_meetings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['signer_id'], ['users.id'],
                            name=op.f('fk_opinion_forms_signer_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_forms'))
    )
    op.create_index(op.f('ix_opinion_forms_body_id'), 'opinion_forms', ['body_id'], unique=False)
    op.create_index(op.f('ix_opinion_forms_closes_at'), 'opinion_forms', ['closes_at'], unique=False)
    op.create_index(op.f('ix_opinion_forms_status'), 'opinion_forms', ['status'], unique=False)
    op.create_table('opinion_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paper_sha256', sa.String(length=64), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('key_id', sa.Integer(), nullable=True),
    sa.Column('certificate_subject', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['form_id'], ['opinion_forms.id'],
                            name=op.f('fk_opinion_answers_form_id_opinion_forms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_opinion_answers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_answers')),
    sa.UniqueConstraint('form_id', 'user_id', name=op.f('uq_opinion_answers_form_id_user_id'))
    )
    op.create_index(op.f('ix_opinion_answers_form_id'), 'opinion_answers', ['form_id'], unique=False)
    op.create_index(op.f('ix_opinion_answers_user_id'), 'opinion_answers', ['user_id'], unique=False)
    op.create_table('opinion_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('original_sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['opinion_forms.id'],
                            name=op.f('fk_opinion_attachments_form_id_opinion_forms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                            name=op.f('fk_opinion_attachments_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_attachments'))
    )
    op.create_index(op.f('ix_opinion_attachments_form_id'), 'opinion_attachments', ['form_id'], unique=False)
    op.create_table('opinion_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('min_choices', sa.Integer(), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['opinion_forms.id'],
                            name=op.f('fk_opinion_questions_form_id_opinion_forms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_questions'))
    )
    op.create_index(op.f('ix_opinion_questions_form_id'), 'opinion_questions', ['form_id'], unique=False)
    op.create_table('opinion_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['opinion_forms.id'],
                            name=op.f('fk_opinion_recipients_form_id_opinion_forms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_opinion_recipients_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_recipients')),
    sa.UniqueConstraint('form_id', 'user_id', name=op.f('uq_opinion_recipients_form_id_user_id'))
    )
    op.create_index(op.f('ix_opinion_recipients_form_id'), 'opinion_recipients', ['form_id'], unique=False)
    op.create_index(op.f('ix_opinion_recipients_user_id'), 'opinion_recipients', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_opinion_recipients_user_id'), table_name='opinion_recipients')
    op.drop_index(op.f('ix_opinion_recipients_form_id'), table_name='opinion_recipients')
    op.drop_table('opinion_recipients')
    op.drop_index(op.f('ix_opinion_questions_form_id'), table_name='opinion_questions')
    op.drop_table('opinion_questions')
    op.drop_index(op.f('ix_opinion_attachments_form_id'), table_name='opinion_attachments')
    op.drop_table('opinion_attachments')
    op.drop_index(op.f('ix_opinion_answers_user_id'), table_name='opinion_answers')
    op.drop_index(op.f('ix_opinion_answers_form_id'), table_name='opinion_answers')
    op.drop_table('opinion_answers')
    op.drop_index(op.f('ix_opinion_forms_status'), table_name='opinion_forms')
    op.drop_index(op.f('ix_opinion_forms_closes_at'), table_name='opinion_forms')
    op.drop_index(op.f('ix_opinion_forms_body_id'), table_name='opinion_forms')
    op.drop_table('opinion_forms')
