"""The gateway's own tables: API keys and idempotency records. It owns no event: each service writes its own.

Row-level security holds on both (migration 0005): each statement runs in a transaction acting for the school
of the rows it touches (None: rows of no school, an operator's or a platform-wide mentor's)."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from cachetools import TTLCache

from smartpick_gateway.domain.auth import NewKey, Principal, Role, secret_matches
from smartpick_platform import db

KEY_CACHE_SECONDS = 30


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    role: Role
    student_id: uuid.UUID | None
    mentor_id: uuid.UUID | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class StoredResponse:
    request_sha256: bytes
    status_code: int
    body: dict


class GatewayRepository:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool
        self._keys: TTLCache[str, tuple[bytes, Principal]] = TTLCache(maxsize=100_000, ttl=KEY_CACHE_SECONDS)

    async def save_key(
        self,
        key: NewKey,
        role: Role,
        tenant_id: uuid.UUID | None,
        student_id: uuid.UUID | None,
        label: str,
        mentor_id: uuid.UUID | None = None,
    ) -> None:
        async with db.tenant_transaction(self.pool, tenant_id) as conn:
            await self._insert_key(conn, key, role, tenant_id, student_id, label, mentor_id)

    @staticmethod
    async def _insert_key(conn, key, role, tenant_id, student_id, label, mentor_id) -> None:
        await conn.execute(
            """INSERT INTO api_keys (key_id, tenant_id, role, student_id, secret_sha256, label, mentor_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            key.key_id,
            tenant_id,
            role.value,
            student_id,
            key.secret_sha256,
            label,
            mentor_id,
        )

    async def authenticate(self, key_id: str, secret: str) -> Principal | None:
        """The key's principal if the secret matches. Known keys are cached for KEY_CACHE_SECONDS, saving a
        query per request; a key revoked in the database stops working within that time."""
        cached = self._keys.get(key_id)
        if cached is None:
            # Before the key's school is known: the one lookup across schools (a SECURITY DEFINER function).
            row = await self.pool.fetchrow("SELECT * FROM api_key_by_id($1) WHERE revoke_time IS NULL", key_id)
            if row is None:
                return None
            principal = Principal(
                row["key_id"], Role(row["role"]), row["tenant_id"], row["student_id"], row["mentor_id"]
            )
            cached = self._keys[key_id] = (row["secret_sha256"], principal)
        secret_sha256, principal = cached
        return principal if secret_matches(secret, secret_sha256) else None

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
                r["revoke_time"],
            )
            for r in rows
        ]

    async def revoke_key(self, tenant_id: uuid.UUID, key_id: str) -> bool:
        """Revokes a key of the school; False if it has no such key. This process forgets it at once; other
        worker processes within KEY_CACHE_SECONDS."""
        async with db.tenant_transaction(self.pool, tenant_id) as conn:
            revoked = await conn.fetchval(
                """UPDATE api_keys SET revoke_time = coalesce(revoke_time, now())
                   WHERE tenant_id = $1 AND key_id = $2 RETURNING key_id""",
                tenant_id,
                key_id,
            )
        self._keys.pop(key_id, None)
        return revoked is not None

    async def find_response(self, principal: Principal, idempotency_key: str) -> StoredResponse | None:
        async with db.tenant_transaction(self.pool, principal.tenant_id) as conn:
            row = await conn.fetchrow(
                """SELECT request_sha256, status_code, response FROM idempotency_records
                   WHERE key_id = $1 AND idempotency_key = $2""",
                principal.key_id,
                idempotency_key,
            )
        return None if row is None else StoredResponse(row[0], row[1], json.loads(row[2]))

    async def record(
        self, principal: Principal, idempotency_key: str, request_sha256: bytes, status_code: int, body: dict
    ) -> None:
        """Stores the answer to replay; a concurrent first request that stored it already wins."""
        async with db.tenant_transaction(self.pool, principal.tenant_id) as conn:
            await self._insert_record(conn, principal, idempotency_key, request_sha256, status_code, body)

    async def issue_replacing(
        self,
        key: NewKey,
        role: Role,
        tenant_id: uuid.UUID,
        label: str,
        principal: Principal,
        idempotency_key: str | None,
        request_sha256: bytes,
        status_code: int,
        body: dict,
    ) -> bool:
        """Saves a key issued in answer to a request, with the request's record, in one transaction.

        The record keeps the answer without the secret (nothing secret is stored in plaintext), so a replay
        issues a new key: this one replaces, and revokes, the key an earlier attempt of the same request
        issued. Returns whether there was such an attempt. The caller's record and the new school's key belong
        to different schools (an operator's record has none): the transaction acts for each in turn."""
        async with db.tenant_transaction(self.pool, principal.tenant_id) as conn:
            earlier = None
            if idempotency_key is not None:
                earlier = await conn.fetchval(
                    """SELECT response->'admin_api_key'->>'key_id' FROM idempotency_records
                       WHERE key_id = $1 AND idempotency_key = $2 FOR UPDATE""",
                    principal.key_id,
                    idempotency_key,
                )
            await db.act_for(conn, tenant_id)
            await self._insert_key(conn, key, role, tenant_id, None, label, None)
            if earlier is not None:
                await conn.execute(
                    "UPDATE api_keys SET revoke_time = now() WHERE key_id = $1 AND revoke_time IS NULL", earlier
                )
                self._keys.pop(earlier, None)
            await db.act_for(conn, principal.tenant_id)
            if idempotency_key is not None:
                await conn.execute(
                    """INSERT INTO idempotency_records
                         (key_id, idempotency_key, tenant_id, request_sha256, status_code, response)
                       VALUES ($1, $2, $3, $4, $5, $6::jsonb)
                       ON CONFLICT (key_id, idempotency_key) DO UPDATE SET response = EXCLUDED.response""",
                    principal.key_id,
                    idempotency_key,
                    principal.tenant_id,
                    request_sha256,
                    status_code,
                    json.dumps(body),
                )
            return earlier is not None

    @staticmethod
    async def _insert_record(conn, principal, idempotency_key, request_sha256, status_code, body) -> None:
        await conn.execute(
            """INSERT INTO idempotency_records
                 (key_id, idempotency_key, tenant_id, request_sha256, status_code, response)
               VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT DO NOTHING""",
            principal.key_id,
            idempotency_key,
            principal.tenant_id,
            request_sha256,
            status_code,
            json.dumps(body),
        )
