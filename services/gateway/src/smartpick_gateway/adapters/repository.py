"""The gateway's own tables: API keys, idempotency records and the outbox."""

import json
import uuid
from dataclasses import dataclass

import asyncpg

from smartpick_gateway.domain.auth import NewKey, Principal, Role, secret_matches
from smartpick_platform.outbox import OutboxMessage, write_outbox


@dataclass(frozen=True)
class StoredResponse:
    request_sha256: bytes
    status_code: int
    body: dict


class GatewayRepository:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def save_key(
        self,
        key: NewKey,
        role: Role,
        tenant_id: uuid.UUID | None,
        student_id: uuid.UUID | None,
        label: str,
        mentor_id: uuid.UUID | None = None,
    ) -> None:
        await self.pool.execute(
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
        row = await self.pool.fetchrow("SELECT * FROM api_keys WHERE key_id = $1 AND revoke_time IS NULL", key_id)
        if row is None or not secret_matches(secret, row["secret_sha256"]):
            return None
        return Principal(row["key_id"], Role(row["role"]), row["tenant_id"], row["student_id"], row["mentor_id"])

    async def find_response(self, key_id: str, idempotency_key: str) -> StoredResponse | None:
        row = await self.pool.fetchrow(
            """SELECT request_sha256, status_code, response FROM idempotency_records
               WHERE key_id = $1 AND idempotency_key = $2""",
            key_id,
            idempotency_key,
        )
        return None if row is None else StoredResponse(row[0], row[1], json.loads(row[2]))

    async def record(
        self,
        principal: Principal,
        idempotency_key: str | None,
        request_sha256: bytes,
        status_code: int,
        body: dict,
        outbox: list[OutboxMessage] = (),
    ) -> None:
        """Writes the outbox messages and the idempotency record in one transaction, then wakes the relay.

        Both inserts ignore conflicts: a replayed request finds its event and its record already there."""
        async with self.pool.acquire() as conn, conn.transaction():
            await write_outbox(conn, list(outbox))
            if idempotency_key is not None:
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
