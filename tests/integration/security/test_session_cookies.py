"""Session cookies under attack: garbage, truncated and mutated tokens, another school's session, an expired or
ended one, and a valid cookie without (or with the wrong) CSRF token on a state-changing request.

Each case sends its cookie on a read (the student's own profile) and on a state change (their mentee request),
on a client that keeps no cookies of its own. Every refusal is a 401 (no valid session), a 403 (no CSRF token),
or, for a valid session of another school, the 404 that hides another school's records; never a 5xx, and always
the documented JSON error body. Controls: the same session with its CSRF token reads and writes."""

import random
import string
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from world import SchoolRecords, World, expect, mentee_request

from smartpick_gateway.domain.sessions import CSRF_HEADER, SESSION_COOKIE, csrf_token, parse_session_token
from smartpick_platform import db

pytestmark = pytest.mark.integration

MUTATIONS = 200  # seeded random mutations of a real token


@dataclass(frozen=True)
class SignedIn:
    token: str
    csrf: str
    school: SchoolRecords


@pytest.fixture
async def cookie_http(attack_gateway: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of its own, whose jar `sign_in` empties: each request carries only the Cookie header its case
    sets."""
    async with httpx.AsyncClient(base_url=attack_gateway, timeout=30) as client:
        yield client


async def sign_in(http: httpx.AsyncClient, school: SchoolRecords) -> SignedIn:
    """A fresh session of `school`'s student, from a sign-in code its admin issues."""
    reply = await http.post("/v1/sessions", json={"code": await school.sign_in_code()})
    body = await expect(reply, 200)
    token = reply.cookies[SESSION_COOKIE]
    http.cookies.clear()
    assert body["csrf_token"] == csrf_token(token)
    return SignedIn(token, body["csrf_token"], school)


def with_cookie(value: str | bytes, csrf: str | None = None) -> list[tuple[bytes, bytes]]:
    """Raw headers, so any byte a client could send reaches the gateway as sent."""
    value = value if isinstance(value, bytes) else value.encode()
    headers = [(b"cookie", SESSION_COOKIE.encode() + b"=" + value)]
    return headers + ([(CSRF_HEADER.encode(), csrf.encode())] if csrf is not None else [])


async def read_and_write(http: httpx.AsyncClient, student: str, headers) -> tuple[httpx.Response, httpx.Response]:
    """The student's own profile (a read) and their mentee request (a state change)."""
    read = await http.get(f"/v1/students/{student}/profile", headers=headers)
    write = await http.put(
        f"/v1/students/{student}/mentorship-request", json=mentee_request("Dermatology"), headers=headers
    )
    return read, write


def refused(reply: httpx.Response, allowed: set[int]) -> str | None:
    """Why the answer is not a documented refusal in `allowed`, else None."""
    if reply.status_code not in allowed:
        return f"{reply.request.method} answered {reply.status_code}: {reply.text[:300]}"
    if not reply.headers.get("content-type", "").startswith("application/json") or "detail" not in reply.json():
        return f"{reply.request.method} {reply.status_code} without the documented error body: {reply.text[:300]}"
    return None


@pytest.fixture
async def own_session(world: World, cookie_http: httpx.AsyncClient) -> SignedIn:
    return await sign_in(cookie_http, world.own)


async def test_a_session_with_its_csrf_token_reads_and_writes(own_session: SignedIn, cookie_http):
    """The control: what every other case here changes."""
    student = own_session.school.student
    read, write = await read_and_write(cookie_http, student, with_cookie(own_session.token, own_session.csrf))
    assert read.status_code == 200, read.text
    assert write.status_code == 200, write.text


GARBAGE = {
    "empty": b"",
    "a word": b"garbage",
    "the prefix only": b"sps_",
    "empty id and secret": b"sps__",
    "a bearer key's shape": b"spk_0123456789abcdef_" + b"A" * 43,
    "quoted": b'"sps_0123456789abcdef_secret"',
    "sql": b"sps_' OR '1'='1_x",
    "path traversal": b"sps_../../etc/passwd_x",
    "percent-encoded NUL": b"sps_%00_%00",
    "latin-1 bytes": b"sps_\xe9\xff_\xfe",
    "long": b"sps_" + b"a" * 16 + b"_" + b"b" * 8000,
    "many separators": b"sps_" + b"_" * 500,
}


@pytest.mark.parametrize("value", GARBAGE.values(), ids=GARBAGE.keys())
async def test_a_garbage_session_cookie_is_refused_with_401(world: World, cookie_http, value: bytes):
    """Refused before the CSRF check, so the state change is a 401 too, even with some CSRF token."""
    for reply in await read_and_write(cookie_http, world.own.student, with_cookie(value, csrf="x" * 43)):
        assert refused(reply, {401}) is None, refused(reply, {401})


def truncations(token: str) -> dict[str, str]:
    session_id, secret = parse_session_token(token)
    return {
        "last character dropped": token[:-1],
        "half the secret": token[: len(token) - len(secret) // 2],
        "no secret": f"sps_{session_id}_",
        "the id only": f"sps_{session_id}",
        "without its prefix": token.removeprefix("sps_"),
        "a character more": token + "A",
        "upper-cased id": f"sps_{session_id.upper()}_{secret}",
        "another secret": f"sps_{session_id}_{'A' * len(secret)}",
        "its secret under another id": f"sps_{uuid.uuid4().hex[:16]}_{secret}",
    }


async def test_a_truncated_or_altered_session_token_is_refused_with_401(own_session: SignedIn, cookie_http):
    student = own_session.school.student
    failures = []
    for name, value in truncations(own_session.token).items():
        # The CSRF token of the altered cookie, as a forger who knows how it is derived could send it.
        for reply in await read_and_write(cookie_http, student, with_cookie(value, csrf_token(value))):
            if (why := refused(reply, {401})) is not None:
                failures.append(f"{name}: {why}")
    assert failures == []


def mutate(token: str, rng: random.Random) -> str:
    """One to three random edits: replace, insert or delete a character."""
    alphabet = string.ascii_letters + string.digits + "-_."
    chars = list(token)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(chars))
        edit = rng.choice(("replace", "insert", "delete"))
        if edit == "replace":
            chars[at] = rng.choice(alphabet)
        elif edit == "insert":
            chars.insert(at, rng.choice(alphabet))
        elif len(chars) > 1:
            del chars[at]
    return "".join(chars)


async def test_random_mutations_of_a_real_session_token_are_all_refused(own_session: SignedIn, cookie_http):
    rng = random.Random(12)
    mutations = {mutate(own_session.token, rng) for _ in range(MUTATIONS)} - {own_session.token}
    statuses: dict[int, int] = {}
    failures = []
    for value in sorted(mutations):
        reply = await cookie_http.get(f"/v1/students/{own_session.school.student}/profile", headers=with_cookie(value))
        statuses[reply.status_code] = statuses.get(reply.status_code, 0) + 1
        if (why := refused(reply, {401})) is not None:
            failures.append(f"{value!r}: {why}")
    assert failures == []
    print(f"{len(mutations)} mutations of a session token: {statuses}")


async def test_another_schools_session_reaches_none_of_this_schools_records(world: World, cookie_http):
    """A valid session of school B, with its own CSRF token, on school A's student: the 404 that hides A's
    records (as for B's API keys); and B's session with A's session's CSRF token is refused as well."""
    other = await sign_in(cookie_http, world.other)
    for reply in await read_and_write(cookie_http, world.own.student, with_cookie(other.token, other.csrf)):
        assert refused(reply, {404}) is None, refused(reply, {404})
    own = await sign_in(cookie_http, world.own)
    _, write = await read_and_write(cookie_http, world.own.student, with_cookie(other.token, own.csrf))
    assert refused(write, {403, 404}) is None, refused(write, {403, 404})


async def test_an_expired_or_ended_session_is_refused_with_401(world: World, stack, cookie_http, own_session: SignedIn):
    pool = await db.create_pool(stack.endpoints.database_urls["gateway"])
    try:
        session_id, _ = parse_session_token(own_session.token)
        async with db.tenant_transaction(pool, world.own.school_id) as conn:
            expired = await conn.execute(
                "UPDATE sessions SET expire_time = now() - interval '1 second' WHERE session_id = $1", session_id
            )
        assert expired == "UPDATE 1"
    finally:
        await pool.close()
    headers = with_cookie(own_session.token, own_session.csrf)
    for reply in await read_and_write(cookie_http, world.own.student, headers):
        assert refused(reply, {401}) is None, refused(reply, {401})

    ended = await sign_in(cookie_http, world.own)
    signed_out = await cookie_http.delete("/v1/session", headers=with_cookie(ended.token, ended.csrf))
    assert signed_out.status_code == 204, signed_out.text
    for reply in await read_and_write(cookie_http, world.own.student, with_cookie(ended.token, ended.csrf)):
        assert refused(reply, {401}) is None, refused(reply, {401})


async def test_a_state_change_with_a_valid_cookie_but_no_or_a_wrong_csrf_token_is_refused_with_403(
    world: World, cookie_http, own_session: SignedIn
):
    """The read needs no CSRF token (a safe method); every state change does, sign-out included, and the
    session stays usable afterwards."""
    student = own_session.school.student
    another = await sign_in(cookie_http, world.own)
    for csrf in (None, "", "x" * 43, another.csrf, own_session.csrf.upper(), own_session.csrf[:-1]):
        read, write = await read_and_write(cookie_http, student, with_cookie(own_session.token, csrf))
        assert read.status_code == 200, read.text
        assert refused(write, {403}) is None, f"CSRF {csrf!r}: {refused(write, {403})}"
        sign_out = await cookie_http.delete("/v1/session", headers=with_cookie(own_session.token, csrf))
        assert refused(sign_out, {403}) is None, f"CSRF {csrf!r}: {refused(sign_out, {403})}"
    _, write = await read_and_write(cookie_http, student, with_cookie(own_session.token, own_session.csrf))
    assert write.status_code == 200, write.text
