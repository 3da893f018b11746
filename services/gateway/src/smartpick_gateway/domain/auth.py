"""Credentials and who may do what, free of I/O.

An API key reads `spk_<key_id>_<secret>`: the key id finds the stored row, the secret is only ever kept
as its SHA-256 (a random 256-bit secret needs no slow hash)."""

import enum
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

KEY_PREFIX = "spk"


class Role(enum.StrEnum):
    OPERATOR = "operator"
    SCHOOL_ADMIN = "school_admin"
    ADVISOR = "advisor"
    STUDENT = "student"
    MENTOR = "mentor"  # bound to one mentor; a platform-wide mentor's key belongs to no school


class Forbidden(Exception):
    """The caller is known but may not do this."""


class NotVisible(Exception):
    """The thing belongs to another school or student; answered as 'not found' so it is not revealed."""


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    tenant_id: uuid.UUID | None
    student_id: uuid.UUID | None
    mentor_id: uuid.UUID | None = None


@dataclass(frozen=True)
class NewKey:
    key_id: str
    secret_sha256: bytes
    token: str


def new_key() -> NewKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewKey(key_id, hash_secret(secret), f"{KEY_PREFIX}_{key_id}_{secret}")


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_token(token: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed token, else None."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not key_id or not secret:
        return None
    return key_id, secret


def secret_matches(secret: str, stored_sha256: bytes) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_sha256)


class BadExpiry(ValueError):
    """A requested expiry the key may not have; the message says what to send instead."""


def key_expiry(requested: datetime | None, now: datetime, default: timedelta, longest: timedelta) -> datetime:
    """When a new key stops working: `default` from now unless the caller asks for another time, which
    must be in the future and at most `longest` from now (a key that lives forever is a leak that never ends)."""
    if requested is None:
        return now + default
    if requested.tzinfo is None:
        raise BadExpiry("give expires_at with its time zone, e.g. 2027-01-31T00:00:00Z")
    if requested <= now:
        raise BadExpiry("expires_at must be in the future")
    if requested > now + longest:
        raise BadExpiry(f"expires_at may be at most {longest.days} days from now")
    return requested


def require_operator(principal: Principal) -> None:
    if principal.role is not Role.OPERATOR:
        raise Forbidden("only platform operators may do this")


def require_school_member(principal: Principal, school_id: uuid.UUID) -> None:
    """Operators see every school; anyone else sees only their own."""
    if principal.role is not Role.OPERATOR and principal.tenant_id != school_id:
        raise NotVisible()


def require_school_admin(principal: Principal, school_id: uuid.UUID) -> None:
    require_school_member(principal, school_id)
    if principal.role not in (Role.OPERATOR, Role.SCHOOL_ADMIN):
        raise Forbidden("only the school's admins may do this")


def tenant_of(principal: Principal) -> uuid.UUID:
    """The school whose students the caller works on; operators work on schools, not students."""
    if principal.tenant_id is None:
        raise Forbidden("operators manage schools; use a school's key to work on its students")
    return principal.tenant_id


def require_can_list_students(principal: Principal) -> uuid.UUID:
    tenant = tenant_of(principal)
    if principal.role not in (Role.SCHOOL_ADMIN, Role.ADVISOR):
        raise Forbidden("only a school's admins and advisors may list its students")
    return tenant


def require_can_read_student(principal: Principal, student_id: uuid.UUID) -> uuid.UUID:
    if principal.role is Role.MENTOR:
        raise Forbidden("mentors see their mentees through their inbox, not students' records")
    tenant = tenant_of(principal)
    if principal.role is Role.STUDENT and principal.student_id != student_id:
        raise NotVisible()
    return tenant


def require_can_write_student(principal: Principal, student_id: uuid.UUID) -> uuid.UUID:
    tenant = require_can_read_student(principal, student_id)
    if principal.role is Role.ADVISOR:
        raise Forbidden("advisors may read students' profiles but not change them")
    return tenant


def require_own_school_admin(principal: Principal) -> uuid.UUID:
    """The caller's school, for what only its admins may change (students, program facts)."""
    tenant = tenant_of(principal)
    if principal.role is not Role.SCHOOL_ADMIN:
        raise Forbidden("only the school's admins may do this")
    return tenant


def mentorship_scope(principal: Principal) -> uuid.UUID | None:
    """The school whose mentors the caller sees; None (platform-wide mentors only) for operators and
    platform-wide mentors."""
    return principal.tenant_id


def require_can_register_mentor(principal: Principal) -> uuid.UUID | None:
    """School admins register their school's mentors; operators register platform-wide ones (None)."""
    if principal.role is Role.OPERATOR:
        return None
    return require_own_school_admin(principal)


def require_can_manage_mentor(principal: Principal, mentor_id: uuid.UUID, mentor_tenant: uuid.UUID | None) -> None:
    """A mentor's registration is changed by the mentor, their school's admins, or (platform-wide
    mentors) operators."""
    if principal.role is Role.MENTOR:
        if principal.mentor_id != mentor_id:
            raise NotVisible()
        return
    if mentor_tenant is None and principal.role is Role.OPERATOR:
        return
    if principal.role is Role.SCHOOL_ADMIN and mentor_tenant is not None and principal.tenant_id == mentor_tenant:
        return
    raise Forbidden("only the mentor or the admins of the mentor's school may do this")


def require_the_mentor(principal: Principal, mentor_id: uuid.UUID) -> None:
    """Only the mentor answers proposals and reads their inbox."""
    if principal.role is not Role.MENTOR:
        raise Forbidden("only the mentor may do this; use the mentor's key")
    if principal.mentor_id != mentor_id:
        raise NotVisible()
