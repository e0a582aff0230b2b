"""Secrets at rest (calendar URLs with private tokens, CalDAV passwords).

Encrypted with Fernet under a key derived from SECRET_KEY, so a copy of the
database alone does not reveal them. Rotating SECRET_KEY makes them
unreadable: the sources then report an error and must be entered again.
"""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class SecretUnreadable(Exception):
    """The stored value was encrypted under another SECRET_KEY, or is damaged."""


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"pendel-secretbox:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret_key: str, value: str) -> str:
    return _fernet(secret_key).encrypt(value.encode()).decode()


def unseal(secret_key: str, sealed: str) -> str:
    try:
        return _fernet(secret_key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("a stored secret cannot be read with the current SECRET_KEY") from None
