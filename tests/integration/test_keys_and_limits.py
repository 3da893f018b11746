"""API keys (revocation across gateway processes, expiry, listing, the school's first admin key) and the
edge's limits (body size, rate per key and per client), on the real stack."""

import asyncio
import dataclasses
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from conftest import LOG_DIR, Stack
from devstack import ServiceProcess, free_port
from support import School, bearer, within_one_minute_window

from smartpick_gateway.adapters.key_revocations import APPLICATION_NAME

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


def other_gateway(stack: Stack, name: str, **overrides: str) -> tuple[ServiceProcess, str]:
    """Another gateway process on the same database, as a second replica or worker would be."""
    ports = dataclasses.replace(stack.ports, gateway_http=free_port())
    process = ServiceProcess("gateway", stack.endpoints, ports, LOG_DIR / name, **overrides)
    process.start().wait_ready()
    return process, f"http://127.0.0.1:{ports.gateway_http}"


async def issue(http: httpx.AsyncClient, school: School, **body) -> dict:
    reply = await http.post(
        f"/v1/schools/{school.school_id}/api-keys", json={"role": "advisor", **body}, headers=school.admin
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


async def listeners(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", APPLICATION_NAME)


async def refused_within_a_second(client: httpx.AsyncClient, path: str, token: str) -> float:
    started = time.monotonic()
    while (await client.get(path, headers=bearer(token))).status_code == 200:
        assert time.monotonic() - started < 1.0, "the other gateway process still takes the revoked key"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def second_gateway(stack: Stack):
    process, url = other_gateway(stack, "second-gateway")
    yield url
    process.stop()


@pytest.fixture(scope="module")
def limited_gateway(stack: Stack):
    """A gateway with small limits, so a burst shows them without slowing the rest of the run."""
    process, url = other_gateway(
        stack, "limited-gateway", key_rate_limit="5/second;20/minute", client_rate_limit="80/minute"
    )
    yield url
    process.stop()


async def test_a_revoked_key_stops_working_on_another_gateway_process_within_a_second(http, new_school, second_gateway):
    school = await new_school()
    key = await issue(http, school, label="leaked")
    school_path = f"/v1/schools/{school.school_id}"
    async with httpx.AsyncClient(base_url=second_gateway, timeout=5) as other:
        # The other process has now seen (and cached) the key.
        assert (await other.get(school_path, headers=bearer(key["api_key"]))).status_code == 200
        revoked = await http.delete(f"{school_path}/api-keys/{key['key_id']}", headers=school.admin)
        assert revoked.status_code == 204, revoked.text
        took = await refused_within_a_second(other, school_path, key["api_key"])
        assert (await other.get(school_path, headers=bearer(key["api_key"]))).status_code == 401
        print(f"revoked key refused by the other process after {took * 1000:.0f} ms")
    assert (await http.get(school_path, headers=bearer(key["api_key"]))).status_code == 401


async def test_a_revocation_reaches_a_process_whose_listener_was_cut_and_again_once_it_is_back(
    stack, http, new_school, second_gateway
):
    school = await new_school()
    first, second = await issue(http, school), await issue(http, school)
    school_path = f"/v1/schools/{school.school_id}"
    conn = await asyncpg.connect(stack.endpoints.database_urls["gateway"])
    async with httpx.AsyncClient(base_url=second_gateway, timeout=5) as other:
        try:
            for key in (first, second):
                assert (await other.get(school_path, headers=bearer(key["api_key"]))).status_code == 200
            listening = await listeners(conn)
            assert listening >= 2  # this run's gateway and the second one
            # Cut every gateway process's listening session; a revocation right then is never notified.
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", APPLICATION_NAME
            )
            await http.delete(f"{school_path}/api-keys/{first['key_id']}", headers=school.admin)
            cut = await refused_within_a_second(other, school_path, first["api_key"])
            for _ in range(200):  # the listeners come back (capped backoff) ...
                if await listeners(conn) >= listening:
                    break
                await asyncio.sleep(0.1)
            assert await listeners(conn) >= listening
            assert (await other.get(school_path, headers=bearer(second["api_key"]))).status_code == 200
            await http.delete(f"{school_path}/api-keys/{second['key_id']}", headers=school.admin)
            back = await refused_within_a_second(other, school_path, second["api_key"])  # ... and NOTIFY works again
        finally:
            await conn.close()
    print(f"revoked with the listeners cut: refused after {cut * 1000:.0f} ms; once back: {back * 1000:.0f} ms")


async def test_an_expired_key_is_refused_and_an_expiry_out_of_bounds_is_a_422(http, new_school):
    school = await new_school()
    expires = datetime.now(UTC) + timedelta(seconds=3)
    key = await issue(http, school, expires_at=expires.isoformat())
    assert datetime.fromisoformat(key["expires_at"]) == expires
    school_path = f"/v1/schools/{school.school_id}"
    assert (await http.get(school_path, headers=bearer(key["api_key"]))).status_code == 200
    await asyncio.sleep((expires - datetime.now(UTC)).total_seconds() + 0.2)
    assert (await http.get(school_path, headers=bearer(key["api_key"]))).status_code == 401

    default = await issue(http, school)
    lifetime = datetime.fromisoformat(default["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=89) < lifetime <= timedelta(days=90)
    for asked in (datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=366), "2027-01-01T00:00"):
        reply = await http.post(
            f"{school_path}/api-keys",
            json={"role": "advisor", "expires_at": asked if isinstance(asked, str) else asked.isoformat()},
            headers=school.admin,
        )
        assert reply.status_code == 422, reply.text
        assert ["body", "expires_at"] in [e["loc"] for e in reply.json()["detail"]]


async def test_listing_the_keys_shows_no_secret(http, new_school):
    school = await new_school()
    key = await issue(http, school, label="crm")
    secret = key["api_key"].rsplit("_", 1)[1]
    listed = await http.get(f"/v1/schools/{school.school_id}/api-keys", headers=school.admin)
    assert listed.status_code == 200
    assert secret not in listed.text
    (entry,) = [k for k in listed.json()["keys"] if k["key_id"] == key["key_id"]]
    assert set(entry) == {
        "key_id",
        "role",
        "label",
        "student_id",
        "mentor_id",
        "created_at",
        "expires_at",
        "revoked_at",
    }
    assert entry["expires_at"] == key["expires_at"]


async def test_a_repeated_school_creation_says_its_admin_key_was_issued_and_nothing_stores_the_key(
    stack, http, operator_key
):
    headers = {**bearer(operator_key), "Idempotency-Key": f"school-{uuid.uuid4()}"}
    first = await http.post("/v1/schools", json={"name": "Replayed School"}, headers=headers)
    again = await http.post("/v1/schools", json={"name": "Replayed School"}, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    issued = first.json()["admin_api_key"]
    assert again.headers.get("Idempotent-Replay") == "true"
    assert again.json()["school_id"] == first.json()["school_id"]
    assert again.json()["admin_api_key"] is None
    assert (
        "already issued" in again.json()["admin_api_key_note"]
        and issued["key_id"] in again.json()["admin_api_key_note"]
    )
    secret = issued["api_key"].rsplit("_", 1)[1]
    assert secret not in again.text
    # The first key still works: a replay neither shows nor replaces it.
    school_path = f"/v1/schools/{first.json()['school_id']}"
    assert (await http.get(school_path, headers=bearer(issued["api_key"]))).status_code == 200
    conn = await asyncpg.connect(stack.endpoints.database_urls["gateway"])
    try:
        stored = await conn.fetchval(
            "SELECT count(*) FROM idempotency_records r WHERE r::text LIKE '%' || $1 || '%'", secret
        )
        keys = await conn.fetchval("SELECT count(*) FROM api_keys k WHERE k::text LIKE '%' || $1 || '%'", secret)
        records = await conn.fetchval(
            "SELECT count(*) FROM idempotency_records WHERE idempotency_key = $1", headers["Idempotency-Key"]
        )
    finally:
        await conn.close()
    assert (stored, keys, records) == (0, 0, 1)
    other = await http.post("/v1/schools", json={"name": "Another"}, headers=headers)
    assert other.status_code == 422 and other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


async def send_body(port: int, path: str, headers: dict[str, str], size: int, chunked: bool) -> tuple[int, float, int]:
    """Sends `size` bytes as fast as the gateway takes them, declared or chunked, while reading its answer:
    (status, seconds until the answer, bytes sent by then)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(f"PUT {path} HTTP/1.1\r\nHost: gateway\r\n{head}{framing}\r\n\r\n".encode())
    started = time.monotonic()
    sent = 0

    async def write_body() -> None:
        nonlocal sent
        chunk = b"[" + b"1," * (MIB // 2 - 1) + b"1]"
        try:
            while sent < size:
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                await writer.drain()
                sent += len(chunk)
            if chunked:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except ConnectionError:
            pass  # the gateway answered and closed: the rest is never read

    writing = asyncio.create_task(write_body())
    status_line = await asyncio.wait_for(reader.readline(), 30)
    elapsed, sent_by_then = time.monotonic() - started, sent
    writing.cancel()
    await asyncio.gather(writing, return_exceptions=True)
    writer.close()
    return int(status_line.split()[1]), elapsed, sent_by_then


async def test_a_50_mb_body_gets_413_quickly_and_the_gateway_memory_barely_moves(stack, http, new_school):
    school = await new_school()
    path = f"/v1/students/{uuid.uuid4()}/profile"
    headers = {**school.admin, "Content-Type": "application/json"}
    pid = stack.processes["gateway"].process.pid
    before = rss_bytes(pid)
    for chunked in (False, True):
        status, seconds, sent = await send_body(stack.ports.gateway_http, path, headers, 50 * MIB, chunked)
        grown = rss_bytes(pid) - before
        print(
            f"50 MB body ({'chunked' if chunked else 'declared length'}): {status} after {seconds * 1000:.0f} ms, "
            f"{sent / MIB:.1f} MiB sent by then, gateway RSS {before / MIB:.1f} MiB -> +{grown / MIB:.2f} MiB"
        )
        assert status == 413
        assert grown < 5 * MIB, f"the gateway grew by {grown / MIB:.1f} MiB on a refused body"
    # The gateway goes on answering.
    assert (await http.get(f"/v1/schools/{school.school_id}", headers=school.admin)).status_code == 200


async def test_a_burst_from_one_key_gets_429s_and_other_keys_are_unaffected(http, new_school, limited_gateway):
    """The limited gateway allows 5/second and 20/minute per key, 80/minute per client address."""
    school = await new_school()
    keys = [(await issue(http, school, label=f"burst {i}"))["api_key"] for i in range(12)]
    school_path = f"/v1/schools/{school.school_id}"
    await within_one_minute_window(20)
    async with httpx.AsyncClient(base_url=limited_gateway, timeout=15) as edge:
        burst = await asyncio.gather(*(edge.get(school_path, headers=bearer(keys[0])) for _ in range(40)))
        ok = [r for r in burst if r.status_code == 200]
        refused = [r for r in burst if r.status_code == 429]
        assert len(ok) + len(refused) == 40
        assert 1 <= len(ok) <= 20 and len(refused) >= 20
        for reply in refused:
            assert int(reply.headers["Retry-After"]) >= 1
            assert "with this credential" in reply.json()["detail"]
        # Another key of the same school, from the same address, is unaffected.
        assert [(await edge.get(school_path, headers=bearer(keys[1]))).status_code for _ in range(3)] == [200] * 3
        # The address as a whole: 43 requests so far, and 50 more from ten other keys pass its 80/minute.
        spread = [(await edge.get(school_path, headers=bearer(key))) for key in keys[2:] for _ in range(5)]
        by_address = [r for r in spread if r.status_code == 429]
        assert len(by_address) >= 13 and all("from your address" in r.json()["detail"] for r in by_address)
        assert all(int(r.headers["Retry-After"]) >= 1 for r in by_address)
        print(f"burst of 40 from one key: {len(ok)} answered, {len(refused)} got 429; by address: {len(by_address)}")
