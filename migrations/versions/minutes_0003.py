"""minutes: revocation of signers' certificates (reason, serial number for the CRL and OCSP)

Revision ID: minutes_0003
Revises: minutes_0002
Create Date: 2026-12-01 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'minutes_0003'
down_revision = 'minutes_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('signer_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revocation_reason', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('serial', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_signer_keys_serial'), ['serial'], unique=False)
    # Keys registered before: their serial number is read from the stored certificate.
    from cryptography import x509

    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, certificate_pem FROM signer_keys WHERE certificate_pem IS NOT NULL"))
    for key_id, pem in rows.fetchall():
        serial = format(x509.load_pem_x509_certificate(pem.encode("ascii")).serial_number, "x")
        conn.execute(sa.text("UPDATE signer_keys SET serial = :s WHERE id = :i"), {"s": serial, "i": key_id})


def downgrade() -> None:
    with op.batch_alter_table('signer_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signer_keys_serial'))
        batch_op.drop_column('serial')
        batch_op.drop_column('revocation_reason')
