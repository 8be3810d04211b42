"""PAdES signatures with pyHanko, as incremental updates.

The composed minutes get two empty signature fields on the THƯ KÝ and CHỦ TỌA
blocks before they are finalized. The secretary's signature certifies the
document (DocMDP, form filling only); the chair's fills the second field. A
visible stamp on each block says who signed, in which role and when, in
Vietnamese, with an embedded OpenType font.
"""
from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from meetings.core.errors import Invalid
from meetings.core.fonts import SERIF, font_path
from meetings.minutes.loopsafe import outside_running_loop
from meetings.minutes.ltv import chain_trusted, local_timestamper, signing_context

FIELD_NAMES = {"secretary": "ThuKy", "chair": "ChuToa"}
ROLE_TITLES = {"vi": {"secretary": "Thư ký", "chair": "Chủ tọa"},
               "en": {"secretary": "Secretary", "chair": "Chair"}}
STAMP_TEXT = {
    "vi": "Ký bởi: %(name)s\nVai trò: %(role)s\nThời gian: %(time)s",
    "en": "Signed by: %(name)s\nRole: %(role)s\nTime: %(time)s",
}
_font_lock = threading.Lock()


@dataclass
class KeySpec:
    """Where a signer's key is. The secret (passphrase, PIN or OTP) travels beside it, never inside."""

    kind: str                       # "pkcs12", "pkcs11" or "csc"
    path: str | None = None         # PKCS#12 file
    module: str | None = None       # PKCS#11 library
    token_label: str | None = None
    key_label: str | None = None
    cert_label: str | None = None
    service_url: str | None = None  # CSC remote signing service (base URL, before /csc/v1/)
    credential_id: str | None = None
    access_token: str | None = None  # the service's bearer token (from CSC_ACCESS_TOKEN), never stored
    fingerprint: str | None = None  # of the registered certificate: the service must still hold it


def stamp_font(cache_dir: str | Path) -> Path:
    """DejaVu Serif rescaled to 1000 units per em (pyHanko's stamp assumes 1000), cached once."""
    target = Path(cache_dir) / "DejaVuSerif-1000upem.ttf"
    if target.exists():
        return target
    with _font_lock:
        if not target.exists():
            from fontTools.ttLib import TTFont
            from fontTools.ttLib.scaleUpem import scale_upem

            font = TTFont(str(font_path(SERIF)))
            scale_upem(font, 1000)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            font.save(str(tmp))
            tmp.replace(target)  # atomic: a concurrent reader never sees half a font
    return target


def add_signature_fields(pdf: bytes, boxes: dict[str, dict]) -> bytes:
    """Add the empty THƯ KÝ and CHỦ TỌA fields where compose drew the blocks."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for role in ("secretary", "chair"):
        spot = boxes.get(role)
        if spot is None:
            raise Invalid(f"The composed minutes have no {role} block.")
        append_signature_field(w, SigFieldSpec(FIELD_NAMES[role], on_page=spot["page"],
                                               box=tuple(spot["box"])))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def load_signer(spec: KeySpec, secret: str):
    """Open the key with the passphrase or PIN; a wrong one is a clear Invalid error."""
    from pyhanko.sign import signers

    if spec.kind == "pkcs12":
        try:
            data = Path(spec.path).read_bytes()
        except OSError as err:
            raise Invalid("The signing key file is missing.", code="key_missing") from err
        try:
            return signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=secret.encode("utf-8"))
        except ValueError as err:
            raise Invalid("Wrong passphrase for the signing key.", code="wrong_passphrase") from err
    if spec.kind == "pkcs11":
        from meetings.minutes.pkcs11 import open_signer

        return open_signer(spec, secret)
    if spec.kind == "csc":
        from meetings.minutes.csc import open_signer as open_remote_signer

        return open_remote_signer(spec, secret)
    raise Invalid(f"Unknown key kind {spec.kind!r}.")


@outside_running_loop
def sign(pdf: bytes, *, role: str, spec: KeySpec, secret: str, signer_name: str, font_cache: str | Path,
         signed_at: datetime, language: str = "vi", tz: str = "Asia/Ho_Chi_Minh", tsa_url: str | None = None,
         location: str | None = None, validation: dict | None = None, archival: bool = False,
         timestamp_unit: dict | None = None, field_name: str | None = None, role_title: str | None = None,
         reason: str | None = None, certify: bool | None = None) -> bytes:
    """Sign ``pdf`` in the field of ``role`` as an incremental update; returns the new file.

    Any other paper (``meetings.minutes.papers``) names its own ``field_name``, ``role_title`` (the stamp's
    "Vai trò") and ``reason``; ``certify`` then defaults to False.

    The secretary's signature certifies (DocMDP form filling); the chair's is an approval signature.
    With ``validation`` (``revocation.signing_revinfo``) the revocation data of the signer's chain (and of
    the TSA's) goes into the DSS: B-LT with a TSA; with ``archival`` too, a document timestamp follows (B-LTA).
    Without ``tsa_url``, ``timestamp_unit`` (``keys.timestamp_unit_files``) stamps the signature: B-LT.
    """
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko.stamp import TextStampStyle

    if field_name is None and role not in FIELD_NAMES:
        raise Invalid(f"Unknown signing role {role!r}.")
    signer = load_signer(spec, secret)
    if certify is None:
        certify = field_name is None and role == "secretary"
    title = role_title or ROLE_TITLES.get(language, ROLE_TITLES["vi"]).get(role, role)
    timestamper = (timestamps.HTTPTimeStamper(tsa_url) if tsa_url
                   else local_timestamper(timestamp_unit) if timestamp_unit else None)
    vc = signing_context(validation)
    embed = vc is not None and chain_trusted(signer.signing_cert, vc)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name or FIELD_NAMES[role], subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        certify=certify, docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        reason=reason or f"{ROLE_TITLES['vi'][role]} ký biên bản", location=location, name=signer_name,
        embed_validation_info=embed, validation_context=vc if embed else None,
        use_pades_lta=embed and archival and timestamper is not None,
    )
    style = TextStampStyle(
        stamp_text=STAMP_TEXT.get(language, STAMP_TEXT["vi"]),
        text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(str(stamp_font(font_cache))), font_size=9),
        border_width=1, background=None,
    )
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=style, timestamper=timestamper)
    when = signed_at.astimezone(ZoneInfo(tz)).strftime("%H:%M:%S %d/%m/%Y (%z)")
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = io.BytesIO()
    try:
        pdf_signer.sign_pdf(w, existing_fields_only=True, output=out, appearance_text_params={
            "name": signer_name, "role": title, "time": when})
    finally:
        token_session = getattr(signer, "pkcs11_session", None)
        if token_session is not None:
            token_session.close()  # logs the token out: the PIN is good for this one signature
    return out.getvalue()
