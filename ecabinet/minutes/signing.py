"""PAdES signatures on final minutes (pyHanko), and a self-signed key pair for development.

Production uses the key and certificate issued to the Government Office (for example by the
national CA); configure their paths with SIGNING_KEY / SIGNING_CERT (and SIGNING_KEY_PASSWORD).
"""

from __future__ import annotations

import asyncio
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ecabinet.core.errors import DomainError


def _outside_event_loop(work):  # noqa: ANN001, ANN202
    """pyHanko drives its async core with ``asyncio.run``, which refuses to start inside a running loop
    (a caller that already runs asyncio): run the work on a fresh thread there."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


class SigningError(DomainError):
    """The minutes could not be signed; the message says why (the minutes stay unsigned)."""

    # Not a broken rule: the failure is recorded on the minutes (unsigned, with the reason), and that
    # record must commit.
    dooms = False


def make_self_signed(key_path: Path, cert_path: Path, common_name: str = "e-Cabinet development signing key",
                     organisation: str = "Văn phòng Chính phủ (development)", days: int = 825) -> None:
    """Write a new RSA key (PEM, 0600) and a self-signed certificate for document signing."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    key_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _signer(key_path: str | None, cert_path: str | None, password: str | None):  # noqa: ANN202
    from pyhanko.sign import signers

    if not key_path or not cert_path:
        raise SigningError("No signing key is configured (SIGNING_KEY and SIGNING_CERT).")
    if not Path(key_path).is_file() or not Path(cert_path).is_file():
        raise SigningError("The signing key or certificate file does not exist.")
    try:
        signer = signers.SimpleSigner.load(key_path, cert_path,
                                           key_passphrase=password.encode() if password else None)
    except Exception as exc:  # noqa: BLE001 - pyHanko raises many kinds for a bad key
        raise SigningError("The signing key or certificate cannot be read: %(reason)s",
                           reason=type(exc).__name__) from exc
    if signer is None:
        raise SigningError("The signing key or certificate cannot be read: %(reason)s", reason="invalid")
    return signer


def sign_pdf(pdf: bytes, key_path: str | None, cert_path: str | None, password: str | None = None,
             reason: str = "Phê duyệt biên bản phiên họp", location: str = "Hà Nội") -> bytes:
    """Sign with a PAdES baseline signature (B-B); returns the signed bytes."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = _signer(key_path, cert_path, password)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(field_name="ChairSignature", reason=reason, location=location,
                                        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    out = io.BytesIO()
    try:
        _outside_event_loop(lambda: signers.sign_pdf(writer, meta, signer=signer, output=out))
    except Exception as exc:  # noqa: BLE001
        raise SigningError("Signing failed: %(reason)s", reason=str(exc)[:200]) from exc
    return out.getvalue()


@dataclass(frozen=True)
class SignatureReport:
    signed: bool
    intact: bool
    valid: bool
    trusted: bool
    signer: str
    signed_at: str
    covers_whole_document: bool
    summary: str

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.valid and self.covers_whole_document


def validate_pdf(pdf: bytes, trusted_cert_path: str | None = None) -> SignatureReport:
    """Check the signature: the bytes are unchanged since signing, the signature is cryptographically valid,
    and (when a trusted certificate is given) it chains to it."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(pdf))
    if not reader.embedded_signatures:
        return SignatureReport(False, False, False, False, "", "", False, "The document is not signed.")
    embedded = reader.embedded_signatures[0]
    roots = [load_cert_from_pemder(trusted_cert_path)] if trusted_cert_path and Path(trusted_cert_path).is_file() \
        else []
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    status = _outside_event_loop(lambda: validate_pdf_signature(embedded, context))
    coverage = status.coverage is not None and status.coverage.name in ("ENTIRE_FILE", "ENTIRE_REVISION")
    signer = status.signing_cert.subject.human_friendly if status.signing_cert is not None else ""
    signed_at = status.signer_reported_dt.isoformat() if status.signer_reported_dt else ""
    return SignatureReport(True, bool(status.intact), bool(status.valid), bool(status.trusted), signer, signed_at,
                           coverage, status.summary())
