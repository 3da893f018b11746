"""The gateway's own tables: API keys and idempotency records. It owns no event: each service writes its own.

Row-level security holds on both (migration 0005): each statement runs in a transaction acting for the school
of the rows it touches (None: rows of no school, an operator's or a platform-wide mentor's)."""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from cachetools import TTLCache

from smartpick_gateway.adapters import key_revocations
from smartpick_gateway.domain.auth import NewKey, Principal, Role, secret_matches
from smartpick_platform import db
from smartpick_platform.retention import FunctionPurge

# A backstop only: revocations reach every process's cache through NOTIFY (adapters/key_revocations.py).
KEY_CACHE_SECONDS = 30


def retention_purges(idempotency_window: timedelta, sign_in_code_window: timedelta) -> list[FunctionPurge]:
    """What the gateway's tables let go of: idempotency records past their window (never replayed then),
    sessions that ended or expired (never usable again), and sign-in codes `sign_in_code_window` after their
    use or expiry (the admin's list shows them until then) once no session names them, so after the sessions.
    Functions of the schema (migrations 0006 and 0007), as the purge acts for every school at once."""
    return [
        FunctionPurge("idempotency records", "purge_idempotency_records", idempotency_window),
        FunctionPurge("sessions", "purge_sessions", timedelta(0)),
        FunctionPurge("sign-in codes", "purge_sign_in_codes", sign_in_code_window),
    ]


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    role: Role
    student_id: uuid.UUID | None
    mentor_id: uuid.UUID | None
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class CachedKey:
    secret_sha256: bytes
    principal: Principal
    expires_at: datetime


@dataclass(frozen=True)
class StoredResponse:
    request_sha256: bytes
    status_code: int
    body: dict


class GatewayRepository:
    def __init__(self, pool: asyncpg.Pool, idempotency_window: timedelta = timedelta(hours=24)):
        """Keys are cached only while `cache_trusted()` says revocations reach this process (no listener:
        never); an idempotency record older than `idempotency_window` is neither replayed nor kept."""
        self.pool = pool
        self.idempotency_window = idempotency_window
        self.cache_trusted: Callable[[], bool] = lambda: False
        self._keys: TTLCache[str, CachedKey] = TTLCache(maxsize=100_000, ttl=KEY_CACHE_SECONDS)
        self._forgotten = 0  # counts forgets, so a row read before a revocation is not cached after it

    def forget_key(self, key_id: str) -> None:
        self._forgotten += 1
        self._keys.pop(key_id, None)

    def forget_all_keys(self) -> None:
        self._forgotten += 1
        self._keys.clear()

    async def save_key(
        self,
        key: NewKey,
        role: Role,
        tenant_id: uuid.UUID | None,
        student_id: uuid.UUID | None,
        label: str,
        expires_at: datetime,
        mentor_id: uuid.UUID | None = None,
    ) -> None:
        async with db.tenant_transaction(self.pool, tenant_id) as conn:
            await self._insert_key(conn, key, role, tenant_id, student_id, label, expires_at, mentor_id)

    @staticmethod
    async def _insert_key(conn, key, role, tenant_id, student_id, label, expires_at, mentor_id) -> None:
        await conn.execute(
            """INSERT INTO api_keys
                 (key_id, tenant_id, role, student_id, secret_sha256, label, expire_time, mentor_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            key.key_id,
            tenant_id,
            role.value,
            student_id,
            key.secret_sha256,
            label,
            expires_at,
            mentor_id,
        )

    async def authenticate(self, key_id: str, secret: str) -> Principal | None:
        """The key's principal if the secret matches and the key is neither revoked nor expired. Known keys
        are cached, saving a query per request, while revocations reach this process (see cache_trusted)."""
        cached = self._keys.get(key_id) if self.cache_trusted() else None
        if cached is None:
            forgotten = self._forgotten
            # Before the key's school is known: the one lookup across schools (a SECURITY DEFINER function).
            row = await self.pool.fetchrow("SELECT * FROM api_key_by_id($1) WHERE revoke_time IS NULL", key_id)
            if row is None:
                return None
            principal = Principal(
                row["key_id"], Role(row["role"]), row["tenant_id"], row["student_id"], row["mentor_id"]
            )
            cached = CachedKey(row["secret_sha256"], principal, row["expire_time"])
            if self.cache_trusted() and forgotten == self._forgotten:
                self._keys[key_id] = cached
        if cached.expires_at <= datetime.now(cached.expires_at.tzinfo):
            return None
        return cached.principal if secret_matches(secret, cached.secret_sha256) else None

    async def list_keys(self, tenant_id: uuid.UUID) -> list[KeyRecord]:
        async with db.tenant_transaction(self.pool, tenant_id) as conn:
            rows = await conn.fetch("SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY create_time DESC", tenant_id)
        return [
            KeyRecord(
                r["key_id"],
                Role(r["role"]),
                r["student_id"],
                r["mentor_id"],
                r["label"],
                r["create_time"],
                r["expire_time"],
                r["revoke_time"],
            )
            for r in rows
        ]

    async def revoke_key(self, tenant_id: uuid.UUID, key_id: str) -> bool:
        """Revokes a key of the school; False if it has no such key. One statement: the update and the
        notification that makes every gateway process forget the key, sent when it commits."""
        async with db.tenant_transaction(self.pool, tenant_id) as conn:
            revoked = await conn.fetchval(
                """WITH revoked AS (
                     UPDATE api_keys SET revoke_time = coalesce(revoke_time, now())
                     WHERE tenant_id = $1 AND key_id = $2 RETURNING key_id)
                   SELECT pg_notify($3, key_id) IS NOT NULL FROM revoked""",
                tenant_id,
                key_id,
                key_revocations.CHANNEL,
            )
        self.forget_key(key_id)
        return revoked is not None

    async def find_response(self, principal: Principal, idempotency_key: str) -> StoredResponse | None:
        async with db.tenant_transaction(self.pool, principal.tenant_id) as conn:
            row = await conn.fetchrow(
                """SELECT request_sha256, status_code, response FROM idempotency_records
                   WHERE key_id = $1 AND idempotency_key = $2 AND create_time > now() - $3::interval""",
                principal.key_id,
                idempotency_key,
                self.idempotency_window,
            )
        return None if row is None else StoredResponse(row[0], row[1], json.loads(row[2]))

    async def record(
        self, principal: Principal, idempotency_key: str, request_sha256: bytes, status_code: int, body: dict
    ) -> None:
        """Stores the answer to replay."""
        async with db.tenant_transaction(self.pool, principal.tenant_id) as conn:
            await self._insert_record(conn, principal, idempotency_key, request_sha256, status_code, body)

    async def save_key_with_record(
        self,
        key: NewKey,
        role: Role,
        tenant_id: uuid.UUID,
        label: str,
        expires_at: datetime,
        principal: Principal,
        idempotency_key: str | None,
        request_sha256: bytes,
        status_code: int,
        body: dict,
    ) -> None:
        """Saves a key issued in answer to a request and the request's record (`body`, which must hold no
        secret) in one transaction: either the key exists and a replay answers that it was issued, or
        neither does. The new school's key and the caller's record belong to different schools (an
        operator's record has none): the transaction acts for each in turn."""
        async with db.tenant_transaction(self.pool, tenant_id) as conn:
            await self._insert_key(conn, key, role, tenant_id, None, label, expires_at, None)
            if idempotency_key is not None:
                await db.act_for(conn, principal.tenant_id)
                await self._insert_record(conn, principal, idempotency_key, request_sha256, status_code, body)

    async def _insert_record(self, conn, principal, idempotency_key, request_sha256, status_code, body) -> None:
        """A concurrent first request that stored its answer already wins; a record past the window (not
        yet purged) gives way to the new answer."""
        await conn.execute(
            """INSERT INTO idempotency_records
                 (key_id, idempotency_key, tenant_id, request_sha256, status_code, response)
               VALUES ($1, $2, $3, $4, $5, $6::jsonb)
               ON CONFLICT (key_id, idempotency_key) DO UPDATE
                 SET request_sha256 = EXCLUDED.request_sha256, status_code = EXCLUDED.status_code,
                     response = EXCLUDED.response, create_time = now()
                 WHERE idempotency_records.create_time <= now() - $7::interval""",
            principal.key_id,
            idempotency_key,
            principal.tenant_id,
            request_sha256,
            status_code,
            json.dumps(body),
            self.idempotency_window,
        )
