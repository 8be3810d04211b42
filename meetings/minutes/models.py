"""Minutes, their signatures, and the signers' keys."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.accounts import factor_roles
from meetings.core.db import Base, UtcDateTime, utcnow

# draft → finalized → secretary_signed → signed → published
MINUTES_STATUSES = ("draft", "finalized", "secretary_signed", "signed", "published")
SIGNING_ORDER = ("secretary", "chair")


class Minutes(Base):
    """One version of a meeting's minutes.

    A correction after signing is a new row with ``previous_id`` pointing at the
    version it corrects; a signed file is never changed, only followed.
    """

    __tablename__ = "minutes"
    __table_args__ = (UniqueConstraint("meeting_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("minutes.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    language: Mapped[str] = mapped_column(String(5), default="vi")
    # Editable while a draft: "Số: …", free text, "Nơi nhận" lines, conclusions per agenda item id.
    number: Mapped[str | None] = mapped_column(String(60))
    opening_text: Mapped[str | None] = mapped_column(Text)
    closing_text: Mapped[str | None] = mapped_column(Text)
    correction_reason: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    conclusions: Mapped[dict] = mapped_column(JSON, default=dict)
    # The current file (content-addressed under STORAGE_PATH/minutes/) once finalized.
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    final_sha256: Mapped[str | None] = mapped_column(String(64))  # the unsigned, finalized file
    # The validation report made when published (meetings.minutes.report), content-addressed like the file.
    validation_sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    page_count: Mapped[int | None] = mapped_column(Integer)
    boxes: Mapped[dict] = mapped_column(JSON, default=dict)
    full_text: Mapped[str | None] = mapped_column(Text)
    # Casefolded title and text, also without diacritics, for the archive's search (see archive.search).
    search_text: Mapped[str | None] = mapped_column(Text)
    search_title: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    finalized_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    signatures: Mapped[list[MinutesSignature]] = relationship(
        back_populates="minutes", cascade="all, delete-orphan", order_by="MinutesSignature.id")
    previous: Mapped[Minutes | None] = relationship(remote_side=[id])


class MinutesSignature(Base):
    """One signature applied to a version of the minutes, with the file it produced."""

    __tablename__ = "minutes_signatures"
    __table_args__ = (UniqueConstraint("minutes_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    key_id: Mapped[int | None] = mapped_column(ForeignKey("signer_keys.id", ondelete="SET NULL"))
    signer_name: Mapped[str] = mapped_column(String(200))
    certificate_subject: Mapped[str | None] = mapped_column(String(500))
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64))

    minutes: Mapped[Minutes] = relationship(back_populates="signatures")


class SignerKey(Base):
    """Where one person's signing key is: a PKCS#12 file (encrypted), a PKCS#11 token, or a remote CSC service.

    Never holds a passphrase, PIN or OTP; the signer types it at each signature.
    """

    __tablename__ = "signer_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))           # pkcs12, pkcs11, csc
    source: Mapped[str] = mapped_column(String(20))         # org_ca, imported, token, remote
    path: Mapped[str | None] = mapped_column(String(500))
    module: Mapped[str | None] = mapped_column(String(500))
    token_label: Mapped[str | None] = mapped_column(String(100))
    key_label: Mapped[str | None] = mapped_column(String(100))
    # A key held at a CSC remote signing service: the service's base URL and the credential there.
    service_url: Mapped[str | None] = mapped_column(String(500))
    credential_id: Mapped[str | None] = mapped_column(String(200))
    certificate_pem: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(500))
    fingerprint: Mapped[str | None] = mapped_column(String(64), unique=True)
    not_after: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # RFC 5280 reason name (key_compromise, superseded, …); the CRL and the OCSP responder say it.
    revocation_reason: Mapped[str | None] = mapped_column(String(30))
    # The certificate's serial number in hex: what a CRL entry and an OCSP request name.
    serial: Mapped[str | None] = mapped_column(String(40), index=True)


class MinutesRegister(Base):
    """A body's register of minutes numbers: one counter per calendar year ("Số: 27/BB-UBND")."""

    __tablename__ = "minutes_registers"
    __table_args__ = (UniqueConstraint("body_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


# MFA_REQUIRED_ROLES "signer": whoever holds a signing key not revoked (meetings/accounts/factor_roles.py).
factor_roles.role_requires("signer", lambda session, user: session.execute(select(SignerKey.id).where(
    SignerKey.user_id == user.id, SignerKey.revoked_at.is_(None)).limit(1)).first() is not None)
