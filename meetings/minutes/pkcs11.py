"""PKCS#11 tokens (smart cards, USB tokens, HSMs; tested with SoftHSM2).

The private key never leaves the token; the signer types the token's PIN at
each signature and it goes no further than the token's login.
"""
from __future__ import annotations

from cryptography import x509

from meetings.core.errors import Invalid, Unavailable


def _token(module: str, token_label: str):
    import pkcs11
    from pkcs11.exceptions import NoSuchToken

    try:
        return pkcs11.lib(module).get_token(token_label=token_label)
    except NoSuchToken as err:
        raise Invalid(f"No token labelled {token_label!r} is present.", code="no_token") from err
    except (OSError, RuntimeError) as err:
        raise Unavailable("The PKCS#11 module cannot be loaded.", code="pkcs11_unavailable") from err


def read_certificate(module: str, token_label: str, cert_label: str) -> x509.Certificate | None:
    """The certificate stored on the token under ``cert_label`` (public: read without a PIN)."""
    from pkcs11 import Attribute, ObjectClass

    with _token(module, token_label).open() as session:
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: cert_label}):
            return x509.load_der_x509_certificate(bytes(obj[Attribute.VALUE]))
    return None


def open_signer(spec, pin: str):
    """A pyHanko signer bound to the token's key, after logging in with ``pin``."""
    from pkcs11.exceptions import PinIncorrect, PinLenRange
    from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1
    from pyhanko.sign.pkcs11 import PKCS11Signer

    token = _token(spec.module, spec.token_label)
    cert = read_certificate(spec.module, spec.token_label, spec.cert_label or spec.key_label)
    if cert is None:
        raise Invalid("The token holds no certificate for this key.", code="no_certificate")
    try:
        session = token.open(user_pin=pin)
    except (PinIncorrect, PinLenRange) as err:
        raise Invalid("Wrong PIN for the token.", code="wrong_pin") from err
    # The process ends after this one signature, which closes the session with it.
    return PKCS11Signer(session, key_label=spec.key_label,
                        signing_cert=translate_pyca_cryptography_cert_to_asn1(cert), other_certs_to_pull=())
