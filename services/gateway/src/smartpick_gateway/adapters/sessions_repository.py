"""The gateway's tables for people: sign-in codes, sessions, and each school's cohort settings."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from smartpick_gateway.domain.auth import Principal, Role
from smartpick_gateway.domain.sessions import NewSecret, session_secret_matches, sign_in_code_hash


@dataclass(frozen=True)
class SignInCode:
    code_id: str
    role: Role
    student_id: uuid.UUID | None
    mentor_id: uuid.UUID | None
    label: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class Session:
    principal: Principal
    label: str
    expires_at: datetime


def _code(row) -> SignInCode:
    return SignInCode(
        row["code_id"],
        Role(row["role"]),
        row["student_id"],
        row["mentor_id"],
        row["label"],
        row["create_time"],
        row["expire_time"],
        row["use_time"],
    )


def _session(row) -> Session:
    principal = Principal(
        f"session:{row['session_id']}", Role(row["role"]), row["tenant_id"], row["student_id"], row["mentor_id"]
    )
    return Session(principal, row["label"], row["expire_time"])


class SessionsRepository:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def save_code(
        self, code: NewSecret, person: Principal, label: str, issued_by: str, lifetime: timedelta
    ) -> SignInCode:
        row = await self.pool.fetchrow(
            """INSERT INTO sign_in_codes
                 (code_id, code_sha256, tenant_id, role, student_id, mentor_id, label, issued_by, expire_time)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + $9) RETURNING *""",
            code.id,
            code.secret_sha256,
            person.tenant_id,
            person.role.value,
            person.student_id,
            person.mentor_id,
            label,
            issued_by,
            lifetime,
        )
        return _code(row)

    async def list_codes(self, tenant_id: uuid.UUID, limit: int = 200) -> list[SignInCode]:
        rows = await self.pool.fetch(
            "SELECT * FROM sign_in_codes WHERE tenant_id = $1 ORDER BY create_time DESC LIMIT $2", tenant_id, limit
        )
        return [_code(r) for r in rows]

    async def open_session(self, code: str, session: NewSecret, lifetime: timedelta) -> Session | None:
        """Uses the code (once: the update and the insert are one statement) and opens its session; None when
        the code is unknown, used or expired."""
        row = await self.pool.fetchrow(
            """WITH used AS (
                 UPDATE sign_in_codes SET use_time = now()
                 WHERE code_sha256 = $1 AND use_time IS NULL AND expire_time > now()
                 RETURNING code_id, tenant_id, role, student_id, mentor_id, label)
               INSERT INTO sessions
                 (session_id, secret_sha256, code_id, tenant_id, role, student_id, mentor_id, label, expire_time)
               SELECT $2, $3, code_id, tenant_id, role, student_id, mentor_id, label, now() + $4 FROM used
               RETURNING *""",
            sign_in_code_hash(code),
            session.id,
            session.secret_sha256,
            lifetime,
        )
        return None if row is None else _session(row)

    async def find_session(self, session_id: str, secret: str) -> Session | None:
        """The open session (not ended, not expired) whose secret matches."""
        row = await self.pool.fetchrow(
            "SELECT * FROM sessions WHERE session_id = $1 AND end_time IS NULL AND expire_time > now()", session_id
        )
        if row is None or not session_secret_matches(secret, row["secret_sha256"]):
            return None
        return _session(row)

    async def end_session(self, session_id: str) -> None:
        await self.pool.execute(
            "UPDATE sessions SET end_time = now() WHERE session_id = $1 AND end_time IS NULL", session_id
        )

    async def risk_threshold(self, tenant_id: uuid.UUID) -> float | None:
        return await self.pool.fetchval("SELECT risk_threshold FROM cohort_settings WHERE tenant_id = $1", tenant_id)

    async def set_risk_threshold(self, tenant_id: uuid.UUID, threshold: float) -> None:
        await self.pool.execute(
            """INSERT INTO cohort_settings (tenant_id, risk_threshold) VALUES ($1, $2)
               ON CONFLICT (tenant_id) DO UPDATE SET risk_threshold = $2, update_time = now()""",
            tenant_id,
            threshold,
        )
