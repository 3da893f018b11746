"""Issuing an API key: its lifetime (a default, or the issuer's own within a maximum) and its one showing."""

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import HTTPException

from smartpick_gateway.domain import auth
from smartpick_gateway.entrypoints import schemas
from smartpick_gateway.entrypoints.dependencies import Components


def key_expiry(deps: Components, requested: datetime | None) -> datetime:
    """When a new key expires: the settings' default, or the issuer's own time within the longest allowed."""
    try:
        return auth.key_expiry(
            requested,
            datetime.now(UTC),
            timedelta(days=deps.settings.api_key_days),
            timedelta(days=deps.settings.api_key_max_days),
        )
    except auth.BadExpiry as error:
        raise HTTPException(422, [{"loc": ["body", "expires_at"], "msg": str(error), "type": "value_error"}]) from error


async def issue_key(
    deps: Components,
    role: auth.Role,
    tenant_id: uuid.UUID | None,
    student_id: uuid.UUID | None,
    label: str,
    expires_at: datetime | None = None,
    mentor_id: uuid.UUID | None = None,
) -> schemas.ApiKeyOut:
    key = auth.new_key()
    expiry = key_expiry(deps, expires_at)
    await deps.repo.save_key(key, role, tenant_id, student_id, label, expiry, mentor_id=mentor_id)
    return schemas.ApiKeyOut(key_id=key.key_id, role=role, api_key=key.token, expires_at=expiry.isoformat())
