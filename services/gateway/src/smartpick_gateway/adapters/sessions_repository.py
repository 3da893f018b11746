"""The gateway's tables for people: sign-in codes, sessions, and each school's cohort settings.

Row-level security holds on all three (migration 0005): a statement runs acting for the school it concerns,
except the two sign-in steps that find the school (SECURITY DEFINER functions of the tables' owner)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from smartpick_gateway.domain.auth import Principal, Role
from smartpick_gateway.domain.sessions import NewSecret, session_secret_matches, sign_in_code_hash
from smartpick_platform import db


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
        async with db.tenant_transaction(self.pool, person.tenant_id) as conn:
            row = await conn.fetchrow(
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
        async with db.tenant_transaction(self.pool, tenant_id) as conn:
            rows = await conn.fetch(
                "SELECT * FROM sign_in_codes WHERE tenant_id = $1 ORDER BY create_time DESC LIMIT $2", tenant_id, limit
            )
        return [_code(r) for r in rows]

    async def open_session(self, code: str, session: NewSecret, lifetime: timedelta) -> Session | None:
        """Uses the code (once: the update and the insert are one statement) and opens its session; None when
        the code is unknown, used or expired."""
        row = await self.pool.fetchrow(
            "SELECT * FROM open_session($1, $2, $3, $4)",
            sign_in_code_hash(code),
            session.id,
            session.secret_sha256,
            lifetime,
        )
        return None if row is None else _session(row)

    async def find_session(self, session_id: str, secret: str) -> Session | None:
        """The open session (not ended, not expired) whose secret matches."""
        row = await self.pool.fetchrow(
            "SELECT * FROM session_by_id($1) WHERE end_time IS NULL AND expire_time > now()", session_id
        )
        if row is None or not session_secret_matches(secret, row["secret_sha256"]):
            return None
        return _session(row)

    async def end_session(self, tenant_id: uuid.UUID, session_id: str) -> None:
        async with db.tenant_transaction(self.pool, tenant_id) as conn:
            await conn.execute(
                "UPDATE sessions SET end_time = now() WHERE session_id = $1 AND end_time IS NULL", session_id
            )

    async def risk_threshold(self, tenant_id: uuid.UUID) -> float | None:
        async with db.tenant_transaction(self.pool, tenant_id) as conn:
            return await conn.fetchval("SELECT risk_threshold FROM cohort_settings WHERE tenant_id = $1", tenant_id)

    async def set_risk_threshold(self, tenant_id: uuid.UUID, threshold: float) -> None:
        async with db.tenant_transaction(self.pool, tenant_id) as conn:
            await conn.execute(
                """INSERT INTO cohort_settings (tenant_id, risk_threshold) VALUES ($1, $2)
                   ON CONFLICT (tenant_id) DO UPDATE SET risk_threshold = $2, update_time = now()""",
                tenant_id,
                threshold,
            )
