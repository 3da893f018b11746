"""Revocations reach every gateway process within moments: PostgreSQL NOTIFY from the revoking transaction.

Each process caches the keys it has seen (a query per request saved) and LISTENs on one channel. The
revoking statement notifies the key id, delivered when its transaction commits, and every listener drops
that key from its cache. A notification sent while a listener is disconnected is lost, so the cache is
trusted only while the listener is connected: it is emptied when the connection drops and again once it is
back (whatever was revoked in between is then read afresh), and keys are looked up in the database until then."""

import asyncio
from collections.abc import Callable

import asyncpg
import structlog
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

log = structlog.get_logger(__name__)

CHANNEL = "smartpick_api_key_revoked"
APPLICATION_NAME = "smartpick-gateway key revocations"  # how pg_stat_activity names the listening session

# What the listener waits out: a database restart, a connection closed under it.
TRANSIENT = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError)


class RevocationListener:
    def __init__(self, database_url: str, forget: Callable[[str], None], forget_all: Callable[[], None]):
        self._database_url = database_url
        self._forget = forget
        self._forget_all = forget_all
        self.listening = False

    async def run(self) -> None:
        """Runs until cancelled, reconnecting with capped backoff."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT),
            wait=wait_exponential(multiplier=0.2, max=5),
            before_sleep=lambda state: log.warning(
                "key revocation listener reconnecting", error=repr(state.outcome.exception())
            ),
        ):
            with attempt:
                await self._listen_until_lost()

    async def _listen_until_lost(self) -> None:
        conn = await asyncpg.connect(
            self._database_url, timeout=10, server_settings={"application_name": APPLICATION_NAME}
        )
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            await conn.add_listener(CHANNEL, self._on_notify)
            self._forget_all()  # what was revoked while nobody listened is read afresh
            self.listening = True
            log.info("key revocation listener connected")
            while not lost.is_set():
                try:
                    # A liveness check: a connection that died silently raises here instead of hanging.
                    await asyncio.wait_for(lost.wait(), 5)
                except TimeoutError:
                    await conn.execute("SELECT 1", timeout=5)
            raise ConnectionError("the key revocation listener's connection closed")
        finally:
            self.listening = False
            self._forget_all()
            conn.terminate()

    def _on_notify(self, _conn, _pid, _channel, key_id: str) -> None:
        self._forget(key_id)
