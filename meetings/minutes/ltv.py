"""Long-term validation (PAdES B-LT, B-LTA) in the child process: what signing embeds, what a file reaches,
whether it validates as of a given moment from its embedded data alone, and the renewal of its timestamps.

Levels (ETSI EN 319 142-1): **B-B** a signature; **B-T** plus a signature timestamp from a TSA; **B-LT**
plus the revocation data of every certificate of its chains in the document security store (DSS);
**B-LTA** plus a document timestamp after it. With ``TSA_URL`` an external TSA stamps each signature (and
the document, B-LTA); without it the organization CA's own timestamp unit (``local_timestamper``) stamps
each signature in this process, so signatures reach B-LT (no document timestamp: renewal needs a TSA).

The organization CA's revocation data comes from the parent (a fresh OCSP answer from our own responder
and the current CRL, see ``meetings.minutes.revocation``): no HTTP request for our own certificates, in
tests, in `make run`, or in a hall without Internet. Only an external TSA's chain is fetched over HTTP,
and only when one is configured.
"""
from __future__ import annotations

import asyncio
import base64
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator.errors import CRLFetchError, OCSPFetchError
from pyhanko_certvalidator.fetchers.api import CRLFetcher, Fetchers, OCSPFetcher

LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
# The policy our timestamp unit states in its tokens (RFC 3161 TSTInfo.policy): a UUID-based OID
# (ITU-T X.667, arc 2.25) minted for this application, so no one else's policy is claimed.
UNIT_POLICY = "2.25.209086922894228100985698511827146070529"


def load_certs(paths: list[str]) -> list[asn1_x509.Certificate]:
    """Certificates from PEM (or DER) files."""
    certs = []
    for path in paths:
        data = Path(path).read_bytes()
        if pem.detect(data):
            certs.extend(asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True))
        else:
            certs.append(asn1_x509.Certificate.load(data))
    return certs


class _LocalFirstOCSP(OCSPFetcher):
    """Answers for our CA's certificates come from the parent; others' from their responders over HTTP."""

    def __init__(self, ca, local: list, delegate: OCSPFetcher | None):
        self.ca, self.local, self.delegate = ca, local, delegate

    def _ours(self, cert) -> list:
        return [r for r in self.local if any(
            s["cert_id"]["serial_number"].native == cert.serial_number
            for s in r["response_bytes"]["response"].parsed["tbs_response_data"]["responses"])]

    async def fetch(self, cert, authority):
        if self.ca is not None and cert.issuer == self.ca.subject:
            found = self._ours(cert)
            if found:
                return found[0]
            raise OCSPFetchError("no OCSP answer of our responder for this certificate")
        if self.delegate is None:
            raise OCSPFetchError("fetching is off")
        return await self.delegate.fetch(cert, authority)

    def fetched_responses(self):
        return list(self.local) + (list(self.delegate.fetched_responses()) if self.delegate else [])

    def fetched_responses_for_cert(self, cert):
        if self.ca is not None and cert.issuer == self.ca.subject:
            return self._ours(cert)
        return self.delegate.fetched_responses_for_cert(cert) if self.delegate else []


class _LocalFirstCRL(CRLFetcher):
    def __init__(self, ca, local: list, delegate: CRLFetcher | None):
        self.ca, self.local, self.delegate = ca, local, delegate

    async def fetch(self, cert, *, use_deltas=None):
        if self.ca is not None and cert.issuer == self.ca.subject:
            return list(self.local)
        if self.delegate is None:
            raise CRLFetchError("fetching is off")
        return await self.delegate.fetch(cert, use_deltas=use_deltas)

    def fetched_crls(self):
        return list(self.local) + (list(self.delegate.fetched_crls()) if self.delegate else [])

    def fetched_crls_for_cert(self, cert):
        if self.ca is not None and cert.issuer == self.ca.subject:
            return list(self.local)
        return self.delegate.fetched_crls_for_cert(cert) if self.delegate else []


def signing_context(validation: dict[str, Any] | None):
    """The ValidationContext pyHanko validates the chains with before signing, and takes the DSS data from."""
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

    if not validation:
        return None
    ocsps = [asn1_ocsp.OCSPResponse.load(base64.b64decode(b)) for b in validation.get("ocsp", [])]
    crls = [asn1_crl.CertificateList.load(Path(p).read_bytes()) for p in validation.get("crl", [])]
    ca = load_certs([validation["ca"]])[0] if validation.get("ca") else None
    roots = load_certs(validation.get("trust", []))
    # Soft-fail: missing revocation data never stops a signature; verification reports the level reached.
    if not validation.get("fetch"):
        return ValidationContext(trust_roots=roots, ocsps=ocsps, crls=crls, allow_fetching=False,
                                 revocation_mode="soft-fail")
    web = RequestsFetcherBackend(per_request_timeout=10).get_fetchers()
    fetchers = Fetchers(ocsp_fetcher=_LocalFirstOCSP(ca, ocsps, web.ocsp_fetcher),
                        crl_fetcher=_LocalFirstCRL(ca, crls, web.crl_fetcher), cert_fetcher=web.cert_fetcher)
    return ValidationContext(trust_roots=roots, allow_fetching=True, fetchers=fetchers, revocation_mode="soft-fail")


def local_timestamper(unit: dict[str, str]):
    """An RFC 3161 timestamper signing with the organization's timestamp unit key (``{"cert", "key", "ca"}``
    PEM paths, ``keys.timestamp_unit_files``, read here in the child), embedding the CA certificate so the
    token carries its chain."""
    from asn1crypto import tsp
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.sign.timestamps import DummyTimeStamper

    class UnitTimeStamper(DummyTimeStamper):
        # pyHanko's in-process TSA states a vendor's test policy; ours states our own.
        def _build_tst_info(self, message_imprint, dt, req):
            info = super()._build_tst_info(message_imprint, dt, req)
            info["policy"] = tsp.ObjectIdentifier(UNIT_POLICY)
            return info

    chain = load_certs([unit["ca"]]) if unit.get("ca") else []
    return UnitTimeStamper(load_cert_from_pemder(unit["cert"]), load_private_key_from_pemder(unit["key"], None),
                           certs_to_embed=chain)


def chain_trusted(cert, vc) -> bool:
    """Whether ``cert`` chains to a trusted root: only then can pyHanko gather and embed its revocation data."""
    from pyhanko_certvalidator import CertificateValidator

    try:
        asyncio.run(CertificateValidator(cert, validation_context=vc).async_validate_usage(set()))
        return True
    except Exception:  # an untrusted or expired chain: sign B-B/B-T as before rather than refuse
        return False


# --- what a file reaches -------------------------------------------------------------------------------

def dss_contents(reader) -> tuple[list, list]:
    """(OCSP responses, CRLs) in the document security store."""
    try:
        dss = reader.root["/DSS"]
    except KeyError:
        return [], []
    ocsps = [asn1_ocsp.OCSPResponse.load(ref.get_object().data) for ref in dss.get("/OCSPs", [])]
    crls = [asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.get("/CRLs", [])]
    return ocsps, crls


def _covered(cert, ocsps: list, crls: list) -> bool:
    """Whether the DSS holds revocation data for ``cert`` (or it needs none)."""
    if cert.ocsp_no_check_value is not None or (not cert.crl_distribution_points and not cert.ocsp_urls):
        return True
    for resp in ocsps:
        try:
            singles = resp["response_bytes"]["response"].parsed["tbs_response_data"]["responses"]
        except (KeyError, TypeError, ValueError):
            continue
        if any(s["cert_id"]["serial_number"].native == cert.serial_number for s in singles):
            return True
    return any(c["tbs_cert_list"]["issuer"] == cert.issuer for c in crls)


def _tsa_certs(signed_data) -> list:
    return [c.chosen for c in signed_data["certificates"]
            if c.name == "certificate" and not c.chosen.ca]


def signature_level(sig, reader, ocsps: list, crls: list) -> dict[str, Any]:
    """The PAdES baseline level one signature reaches, and why."""
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    timestamps = list(extract_tst_data_iter(sig.signer_info, signed=False))
    certs = [sig.signer_cert] + [c for ts in timestamps for c in _tsa_certs(ts)]
    embedded = all(_covered(c, ocsps, crls) for c in certs) and bool(ocsps or crls)
    archived = any(ts.signed_revision > sig.signed_revision for ts in reader.embedded_timestamp_signatures)
    level = "B-B"
    if timestamps:
        level = "B-LTA" if embedded and archived else "B-LT" if embedded else "B-T"
    return {"level": level, "revocation_embedded": embedded, "document_timestamp_after": archived}


def timestamp_facts(ts) -> dict[str, Any]:
    """When a document timestamp says it was made, by which TSA, and until when that TSA's certificate holds."""
    tsa = _tsa_certs(ts.signed_data)
    tst = ts.signed_data["encap_content_info"]["content"].parsed
    return {"time": tst["gen_time"].native.isoformat(), "tsa": tsa[0].subject.human_friendly if tsa else None,
            "tsa_not_after": tsa[0].native["tbs_certificate"]["validity"]["not_after"].isoformat() if tsa else None}


def document_level(per_sig: list[dict[str, Any]]) -> str | None:
    """The level every signature of the document reaches (the lowest)."""
    return min((p["level"] for p in per_sig), key=LEVELS.index) if per_sig else None


# --- validation as of a moment, from the embedded data only ---------------------------------------------

def validate_at(sig, roots: list, moment: datetime) -> dict[str, Any]:
    """AdES validation (ETSI EN 319 102-1) of one signature as of ``moment``, with no network.

    The document timestamps and the DSS are the evidence: a signature whose certificate has expired by
    ``moment`` still passes when a timestamp proves it existed while the certificate was good. AdES needs a
    signature timestamp for that; one without is checked as it stands at ``moment`` against the DSS's data.
    """
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    if next(extract_tst_data_iter(sig.signer_info, signed=False), None) is None:
        return _point_in_time(sig, roots, moment)
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
    from pyhanko_certvalidator.policy_decl import NO_REVOCATION, REQUIRE_REVINFO, CertRevTrustPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager

    trust = SimpleTrustManager.build(trust_roots=[asn1_x509.Certificate.load(c.public_bytes(Encoding.DER))
                                                  for c in roots])
    # Signers' certificates need revocation data (embedded at signing). TSA certificates are not checked for
    # revocation: the outermost document timestamp's TSA data could only be current when it was made, never
    # at a moment years ahead without the network (pyHanko then answers TRY_LATER). That timestamp stands on
    # its TSA chain being valid at ``moment``, which `renew-timestamps` keeps true.
    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(trust_manager=trust,
                                                        revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO)),
        ts_cert_validation_policy=CertValidationPolicySpec(
            trust_manager=trust, revinfo_policy=CertRevTrustPolicy(NO_REVOCATION)),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(RevinfoOnlineFetchingRule.LOCAL_ONLY)))
    timing = ValidationTimingInfo(validation_time=moment, best_signature_time=moment, point_in_time_validation=True)
    # B-LTA: a document timestamp after the signature is proof of existence of the DSS data too (§ 5.6).
    # B-LT: only the signature timestamp proves when it was made; the DSS data is taken as found (§ 5.5,
    # signatures with time and with long-term validation data), which holds while its TSA certificate does.
    archived = any(ts.signed_revision > sig.signed_revision for ts in sig.reader.embedded_timestamp_signatures)
    try:
        result = asyncio.run(ades_lta_validation(sig, spec, timing_info=timing) if archived
                             else _with_time(sig, spec.signature_validation_spec, timing))
    except Exception as err:  # a malformed signature is reported, never raised
        return {"passed": False, "indication": "FAILED", "subindication": None,
                "message": f"{type(err).__name__}: {err}"[:300], "proven_at": None}
    sub, message = result.ades_subindic, result.failure_msg
    proven = result.best_signature_time
    if not archived and sub.status.name == "PASSED":
        # pyHanko's § 5.5 accepts an expired certificate on the timestamp alone; B-LT asks more: the timestamp
        # predates the expiry and the DSS's own data shows the certificate good at the timestamp's time.
        from pyhanko.sign.ades.report import AdESIndeterminate

        if proven is None or proven > sig.signer_cert.not_valid_after:
            sub, message = AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, "no timestamp before the certificate expired"
        elif not (then := _point_in_time(sig, roots, proven))["passed"]:
            sub, message = AdESIndeterminate.REVOCATION_OUT_OF_BOUNDS_NO_POE, then["message"]
    return {"passed": sub.status.name == "PASSED", "indication": sub.status.name, "subindication": sub.name,
            "message": message, "method": "ades-lta" if archived else "ades-with-time",
            "proven_at": result.best_signature_time.isoformat() if result.best_signature_time else None}


async def _with_time(sig, spec, timing):
    """ETSI EN 319 102-1 § 5.5 for one PDF signature, with the DSS's revocation data as local knowledge."""
    import dataclasses

    from pyhanko.sign.validation.ades import ades_with_time_validation
    from pyhanko.sign.validation.policy_decl import LocalKnowledge
    from pyhanko.sign.validation.status import PdfSignatureStatus
    from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer

    ocsps, crls = dss_contents(sig.reader)
    known = LocalKnowledge(known_ocsps=[c for r in ocsps for c in OCSPContainer.load_multi(r)],
                           known_crls=[CRLContainer(c) for c in crls])
    return await ades_with_time_validation(
        sig.signed_data, dataclasses.replace(spec, local_knowledge=known), timing_info=timing,
        raw_digest=sig.compute_digest(), extra_status_kwargs=sig.summarise_integrity_info(),
        status_cls=PdfSignatureStatus)


def _point_in_time(sig, roots: list, moment: datetime) -> dict[str, Any]:
    """No timestamp, so no proof of when it was signed: is the certificate good at ``moment`` by the DSS?"""
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    ocsps, crls = dss_contents(sig.reader)
    vc = ValidationContext(trust_roots=[asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in roots],
                           moment=moment, ocsps=ocsps, crls=crls, allow_fetching=False, revocation_mode="hard-fail")
    try:
        status = validate_pdf_signature(sig, signer_validation_context=vc)
        passed = bool(status.intact and status.valid and status.trusted)
        message = None if passed else status.summary()
    except Exception as err:  # a malformed signature is reported, never raised
        passed, message = False, f"{type(err).__name__}: {err}"[:300]
    return {"passed": passed, "indication": "PASSED" if passed else "INDETERMINATE",
            "subindication": None if passed else "NO_POE", "message": message, "method": "point-in-time",
            "proven_at": None}


# --- timestamp renewal ----------------------------------------------------------------------------------

def renew(pdf: bytes, *, tsa_url: str, validation: dict[str, Any], before_days: int, force: bool,
          now: datetime) -> tuple[bytes | None, dict[str, Any]]:
    """A new document timestamp (with the last one's validation data in the DSS) when the last TSA
    certificate expires within ``before_days`` (or always with ``force``); None when not needed."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers, timestamps

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    stamps = reader.embedded_timestamp_signatures
    tsa = _tsa_certs(stamps[-1].signed_data) if stamps else []
    expires = tsa[0].native["tbs_certificate"]["validity"]["not_after"] if tsa else None
    info = {"tsa_not_after": expires.isoformat() if expires else None}
    if not force and expires is not None and expires > now + timedelta(days=before_days):
        return None, info
    if not force and expires is None:
        return None, info  # never timestamped: `--force` adds the first document timestamp
    vc = signing_context({**validation, "fetch": True})
    stamper = signers.PdfTimeStamper(timestamps.HTTPTimeStamper(tsa_url))
    out = io.BytesIO()
    stamper.update_archival_timestamp_chain(reader, vc, in_place=False, output=out)
    return out.getvalue(), info
