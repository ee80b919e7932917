"""英仕's Ed25519 key that signs audit checkpoints (SPEC §7 "Audit"; README "Audit trail").

Where the private key comes from, first match wins:
- `AUDIT_SIGNING_KEY`: the key itself, PEM (PKCS#8) or 64 hex digits of the raw 32-byte seed;
- `AUDIT_SIGNING_KEY_FILE`: a file holding either form (production: a secret mounted read-only);
- development only: `instance/audit_signing_key.pem`, generated on first use.
Production (APP_ENV=production) refuses to start signing without one of the first two.
"""

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app


class SigningKeyMissing(RuntimeError):
    """Production without AUDIT_SIGNING_KEY / AUDIT_SIGNING_KEY_FILE."""


def _parse(material: str) -> Ed25519PrivateKey:
    material = material.strip()
    if material.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(material.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("AUDIT_SIGNING_KEY is not an Ed25519 key")
        return key
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(material))


def _development_key_file() -> Path:
    path = Path(current_app.instance_path) / "audit_signing_key.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    return path


def signing_key() -> Ed25519PrivateKey:
    """The private key checkpoints are signed with (cached per app)."""
    cached = current_app.extensions.get("audit_signing_key")
    if cached is not None:
        return cached
    config = current_app.config
    if config.get("AUDIT_SIGNING_KEY"):
        key = _parse(config["AUDIT_SIGNING_KEY"])
    elif config.get("AUDIT_SIGNING_KEY_FILE"):
        key = _parse(Path(config["AUDIT_SIGNING_KEY_FILE"]).read_text())
    elif os.environ.get("APP_ENV") == "production":
        raise SigningKeyMissing("set AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE in production")
    else:
        key = _parse(_development_key_file().read_text())
    current_app.extensions["audit_signing_key"] = key
    return key


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_hex(key: Ed25519PublicKey | None = None) -> str:
    """The raw 32-byte public key as 64 hex digits (what the auditor portal and receipts show)."""
    key = key or public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def public_pem() -> str:
    return public_key().public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(key: Ed25519PublicKey | None = None) -> str:
    """First 16 hex digits of sha256 over the raw public key."""
    return hashlib.sha256(bytes.fromhex(public_hex(key))).hexdigest()[:16]


def sign(message: bytes) -> str:
    return signing_key().sign(message).hex()


def signature_valid(message: bytes, signature_hex: str, key: Ed25519PublicKey | None = None) -> bool:
    """True when `signature_hex` is this key's Ed25519 signature of `message`."""
    try:
        (key or public_key()).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
