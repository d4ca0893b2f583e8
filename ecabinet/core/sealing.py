"""Sealing data to a public key (HPKE, RFC 9180, from ``cryptography``), and wrapping a private key
under a key derived from a password (argon2id, from ``argon2-cffi``).

Used for the secret ballot (docs/voting.md, "Threat model"): a secret vote is sealed on arrival to the
ballot's public keys, whose private halves the server keeps only sealed to the key holders' own keys,
which in turn are wrapped by keys derived from the holders' passwords. So the files the server stores
never hold what opens a vote.
"""

from __future__ import annotations

import base64
import os
import secrets
import struct

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

# DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM: HPKE's mandatory-to-implement suite.
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
# argon2id for the key-encryption key. The test suite alone may ask for a cheap profile, like the
# password hasher (accounts/service.py).
_FAST = os.environ.get("ECABINET_FAST_PASSWORD_HASH_FOR_TESTS") == "1"
_KDF = dict(time_cost=1, memory_cost=1024, parallelism=1) if _FAST else dict(time_cost=3, memory_cost=65536,
                                                                             parallelism=4)


class SealError(Exception):
    """A sealed text or wrapped key that does not open with the key given."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_key_pair() -> tuple[X25519PrivateKey, str]:
    """A fresh key pair: the private key, and the public key as base64 text."""
    private = X25519PrivateKey.generate()
    return private, b64(private.public_key().public_bytes_raw())


def public_key(text: str) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(unb64(text))


def private_bytes(key: X25519PrivateKey) -> bytes:
    return key.private_bytes_raw()


def private_key(raw: bytes) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


def pad(data: bytes, size: int) -> bytes:
    """Length-prefixed and zero-padded to ``size`` bytes (to a multiple of it, if longer), so that
    texts sealed for one purpose all have one length: a sealed vote's length must not tell the choice
    ("reject" is shorter than "abstain") nor the length of a comment."""
    body = struct.pack(">I", len(data)) + data
    return body + bytes(-(-len(body) // size) * size - len(body))


def unpad(data: bytes) -> bytes:
    if len(data) < 4:
        raise SealError("too short")
    (n,) = struct.unpack(">I", data[:4])
    if n > len(data) - 4:
        raise SealError("bad length")
    return data[4:4 + n]


def seal(recipient: X25519PublicKey | str, plaintext: bytes, context: str) -> bytes:
    """HPKE single-shot seal. ``context`` binds the text to its use (ballot, layer): a sealed text moved
    to another ballot or layer does not open there."""
    if isinstance(recipient, str):
        recipient = public_key(recipient)
    return _SUITE.encrypt(plaintext, recipient, info=context.encode())


def open_sealed(key: X25519PrivateKey, sealed: bytes, context: str) -> bytes:
    try:
        return _SUITE.decrypt(sealed, key, info=context.encode())
    except (InvalidTag, ValueError) as exc:
        raise SealError("does not open with this key") from exc


def new_salt() -> str:
    return b64(secrets.token_bytes(16))


def derive_wrapping_key(password: str, salt: str) -> bytes:
    """The key that wraps a key holder's private key, derived from their password (argon2id)."""
    return hash_secret_raw(password.encode(), unb64(salt), hash_len=32, type=Type.ID, **_KDF)


def wrap(wrapping_key: bytes, key: X25519PrivateKey) -> str:
    return b64(aes_key_wrap(wrapping_key, private_bytes(key)))


def unwrap(wrapping_key: bytes, wrapped: str) -> X25519PrivateKey:
    try:
        return private_key(aes_key_unwrap(wrapping_key, unb64(wrapped)))
    except (InvalidUnwrap, ValueError) as exc:
        raise SealError("the wrapping key does not fit") from exc
