"""People's sign-in, free of I/O: one-time sign-in codes, session tokens, and the CSRF token bound to each.

A school issues a person a sign-in code (shown once, kept as its SHA-256). Exchanging it ends the code and
opens a session whose token lives only in an HttpOnly cookie. The CSRF token is derived from the session
token, so nothing more is stored: a page reads it from GET /v1/session and sends it as X-CSRF-Token on
every state-changing request, which a cross-site form cannot do (it can neither read the cookie nor the
token). Machines keep using bearer API keys, which need no CSRF token."""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

SESSION_PREFIX = "sps"
SESSION_COOKIE = "smartpick_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class NewSecret:
    """A fresh credential: the id that finds its row, the hash that is stored, the token handed out once."""

    id: str
    secret_sha256: bytes
    token: str


def _sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def new_sign_in_code() -> NewSecret:
    """A code that reads well in a link and can be typed: 120 random bits, base32, in groups of four."""
    raw = base64.b32encode(secrets.token_bytes(15)).decode().rstrip("=")
    code = "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))
    return NewSecret(secrets.token_hex(8), sign_in_code_hash(code), code)


def sign_in_code_hash(code: str) -> bytes:
    """Codes are compared in their canonical form: upper case, no separators or spaces."""
    return _sha256("".join(ch for ch in code.upper() if ch.isalnum()))


def new_session() -> NewSecret:
    session_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewSecret(session_id, _sha256(secret), f"{SESSION_PREFIX}_{session_id}_{secret}")


def parse_session_token(token: str) -> tuple[str, str] | None:
    """(session_id, secret) of a well-formed session token, else None."""
    prefix, _, rest = token.partition("_")
    session_id, _, secret = rest.partition("_")
    if prefix != SESSION_PREFIX or not session_id or not secret:
        return None
    return session_id, secret


def session_secret_matches(secret: str, stored_sha256: bytes) -> bool:
    return hmac.compare_digest(_sha256(secret), stored_sha256)


def csrf_token(session_token: str) -> str:
    """One-way from the session token: knowing it never reveals the session."""
    return base64.urlsafe_b64encode(_sha256(f"csrf:{session_token}")).decode().rstrip("=")


def csrf_ok(method: str, session_token: str, sent: str | None) -> bool:
    """Safe methods need no token; every other method must carry the session's own."""
    if method.upper() in SAFE_METHODS:
        return True
    return sent is not None and hmac.compare_digest(sent, csrf_token(session_token))


def session_id_of(principal_key_id: str) -> str | None:
    """The session behind a principal's credential id, None for an API key."""
    prefix, _, session_id = principal_key_id.partition(":")
    return session_id if prefix == "session" else None
