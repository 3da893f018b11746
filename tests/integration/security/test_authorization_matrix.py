"""Every endpoint x every role x (own record, another student's of the same school, another school's): a 2xx
exactly where the table below allows one, a refusal (401, 403, 404) everywhere else, and no answer to a
caller of school A that carries an identifier of school B.

The table is held to the OpenAPI the gateway serves: a new endpoint without a row fails the suite. Every
request is valid, so a refusal is the authorization's and not the validation's (the allowed cells prove it)."""

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from support import profile
from world import ROLES, SchoolRecords, World, mentee_request, mentor_body

pytestmark = pytest.mark.integration

OWN, SAME, OTHER = "own", "same_school", "other_school"
SCOPES = (OWN, SAME, OTHER)
SCHOOL = frozenset({OWN, SAME})
EVERY = frozenset(SCOPES)
REFUSED = frozenset({401, 403, 404})


@dataclass(frozen=True)
class Rule:
    """Where a role may succeed; a role left out may nowhere."""

    allowed: dict[str, frozenset[str]]
    # False: nothing in the request names a record (the caller's key alone says whose): one cell per role, the
    # other schools' records checked by the leak check on the answer.
    scoped: bool = True
    refused: frozenset[int] = REFUSED
    # An allowed call uses up its target (a proposal answered, a key revoked): each gets a fresh one.
    fresh: bool = False


def rule(scoped=True, refused=REFUSED, fresh=False, **allowed: frozenset[str]) -> Rule:
    return Rule({role: frozenset(scopes) for role, scopes in allowed.items()}, scoped, refused, fresh)


SCHOOL_ROLES = ("admin", "advisor", "student", "mentor")
AUTHENTICATED = {role: EVERY for role in ROLES if role != "none"}
READ_STUDENT = rule(admin=SCHOOL, advisor=SCHOOL, student={OWN})
WRITE_STUDENT = rule(admin=SCHOOL, student={OWN})
SCHOOL_ADMIN = rule(operator=EVERY, admin=SCHOOL)
STAFF = rule(scoped=False, admin=EVERY, advisor=EVERY)
ADMIN_ONLY = rule(scoped=False, admin=EVERY)

EXPECTATIONS: dict[tuple[str, str], Rule] = {
    ("POST", "/v1/schools"): rule(scoped=False, operator=EVERY),
    ("GET", "/v1/schools/{school_id}"): rule(operator=EVERY, **dict.fromkeys(SCHOOL_ROLES, SCHOOL)),
    ("POST", "/v1/schools/{school_id}/api-keys"): SCHOOL_ADMIN,
    ("GET", "/v1/schools/{school_id}/api-keys"): SCHOOL_ADMIN,
    ("DELETE", "/v1/schools/{school_id}/api-keys/{key_id}"): SCHOOL_ADMIN,
    ("POST", "/v1/schools/{school_id}/sign-in-codes"): SCHOOL_ADMIN,
    ("GET", "/v1/schools/{school_id}/sign-in-codes"): SCHOOL_ADMIN,
    ("POST", "/v1/students"): ADMIN_ONLY,
    ("GET", "/v1/students"): STAFF,
    ("GET", "/v1/students/{student_id}"): READ_STUDENT,
    ("PUT", "/v1/students/{student_id}/profile"): WRITE_STUDENT,
    ("GET", "/v1/students/{student_id}/profile"): READ_STUDENT,
    ("GET", "/v1/students/{student_id}/recommendations"): READ_STUDENT,
    ("POST", "/v1/students/{student_id}/what-if"): READ_STUDENT,
    ("PUT", "/v1/students/{student_id}/mentorship-request"): WRITE_STUDENT,
    ("GET", "/v1/students/{student_id}/mentorship-request"): READ_STUDENT,
    ("GET", "/v1/students/{student_id}/mentor-suggestions"): READ_STUDENT,
    ("GET", "/v1/students/{student_id}/mentor-matches"): READ_STUDENT,
    ("GET", "/v1/programs"): rule(scoped=False, **AUTHENTICATED),
    ("GET", "/v1/specialties"): rule(scoped=False, **AUTHENTICATED),
    ("GET", "/v1/cities"): rule(scoped=False, **AUTHENTICATED),
    ("PUT", "/v1/programs/facts"): ADMIN_ONLY,
    ("POST", "/v1/mentorship/mentors"): rule(scoped=False, operator=EVERY, admin=EVERY),
    ("GET", "/v1/mentorship/mentors"): rule(scoped=False, **AUTHENTICATED),
    ("GET", "/v1/mentorship/mentors/{mentor_id}"): rule(**dict.fromkeys(SCHOOL_ROLES, SCHOOL)),
    ("PUT", "/v1/mentorship/mentors/{mentor_id}"): rule(admin=SCHOOL, mentor={OWN}),
    ("POST", "/v1/mentorship/mentors/{mentor_id}/api-keys"): rule(admin=SCHOOL),
    ("GET", "/v1/mentorship/mentors/{mentor_id}/inbox"): rule(mentor={OWN}),
    ("POST", "/v1/mentorship/matches/{match_id}/accept"): rule(fresh=True, mentor={OWN}),
    ("POST", "/v1/mentorship/matches/{match_id}/decline"): rule(fresh=True, mentor={OWN}),
    ("POST", "/v1/mentorship/matches/{match_id}/end"): rule(fresh=True, admin=SCHOOL, student={OWN}, mentor={OWN}),
    ("POST", "/v1/mentorship/rounds"): ADMIN_ONLY,
    ("GET", "/v1/mentorship/rounds/{round_id}"): rule(admin=SCHOOL, advisor=SCHOOL),
    ("POST", "/v1/mentorship/rounds/{round_id}/publish"): rule(admin=SCHOOL),
    ("GET", "/v1/mentorship/policy"): STAFF,
    ("PUT", "/v1/mentorship/policy"): ADMIN_ONLY,
    ("GET", "/v1/cohort"): STAFF,
    ("GET", "/v1/cohort/settings"): STAFF,
    ("PUT", "/v1/cohort/settings"): ADMIN_ONLY,
    # The sign-in code is the credential here, whoever else calls: any school's code opens that school's session.
    ("POST", "/v1/sessions"): rule(**{role: EVERY for role in ROLES}),
    # Sessions only (a cookie): a key is refused, with 409 when it asks to end a session it does not have.
    ("GET", "/v1/session"): rule(scoped=False),
    ("DELETE", "/v1/session"): rule(scoped=False, refused=REFUSED | {409}),
    ("POST", "/v1/try-it"): rule(scoped=False, **{role: EVERY for role in ROLES}),
}


def cells() -> list:
    """Refusals first: they must change nothing, so the standing records stay live for every one of them."""
    found = []
    for (method, path), expected in EXPECTATIONS.items():
        for role in ROLES:
            for scope in SCOPES if expected.scoped else (OWN,):
                allowed = scope in expected.allowed.get(role, ())
                found.append((allowed, pytest.param(method, path, role, scope, id=f"{method} {path} {role} {scope}")))
    return [param for _, param in sorted(found, key=lambda cell: cell[0])]


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str]
    json: Any = None
    content: str | None = None


async def build(world: World, method: str, path: str, role: str, scope: str, allowed: bool) -> Request:
    """A valid request of `role` at the record `scope` names; fresh records where an allowed call uses them up."""
    school: SchoolRecords = world.other if scope == OTHER else world.own
    headers = dict(world.key(role))
    student = {OWN: world.own.student, SAME: world.own.classmate, OTHER: world.other.student}[scope]
    mentor = {OWN: world.own.mentor, SAME: world.own.other_mentor, OTHER: world.other.mentor}[scope]
    match = {OWN: world.own.match, SAME: world.own.classmate_match, OTHER: world.other.match}[scope]
    fresh = allowed and EXPECTATIONS[(method, path)].fresh
    if fresh and "{match_id}" in path:
        match, student_key = await school.fresh_match()
        if role == "student":
            headers = student_key
    values = {
        "school_id": school.school_id,
        "student_id": student,
        "mentor_id": mentor,
        "match_id": match,
        "round_id": school.round_id,
        "key_id": await school.fresh_key_id() if "{key_id}" in path else "",
    }
    request = Request(method, path.format(**values), headers)
    await _body(request, world, school, path, student, mentor)
    return request


async def _body(request: Request, world: World, school: SchoolRecords, path: str, student: str, mentor: str) -> None:
    key = (request.method, path)
    if key == ("POST", "/v1/schools"):
        request.json = {"name": f"Matrix School {uuid.uuid4().hex[:8]}"}
    elif key in {("POST", "/v1/schools/{school_id}/api-keys"), ("POST", "/v1/schools/{school_id}/sign-in-codes")}:
        request.json = {"role": "student", "student_id": student}
    elif key == ("POST", "/v1/students"):
        request.json = {"external_ref": uuid.uuid4().hex, "display_name": "Matrix Student"}
    elif key in {("PUT", "/v1/students/{student_id}/profile"), ("POST", "/v1/students/{student_id}/what-if")}:
        request.json = profile()
    elif key == ("POST", "/v1/try-it"):
        request.json = profile()
    elif key == ("PUT", "/v1/students/{student_id}/mentorship-request"):
        request.json = mentee_request("Orthopaedic Surgery" if student == world.own.classmate else "Dermatology")
    elif key == ("PUT", "/v1/programs/facts"):
        request.content = f"program_id,sponsors_visa,img_share\n{await world.own.catalog_program()},no,0.15\n"
        request.headers["Content-Type"] = "text/csv"
    elif key == ("POST", "/v1/mentorship/mentors"):
        request.json = mentor_body("Dr Matrix", "Dermatology")
    elif key == ("PUT", "/v1/mentorship/mentors/{mentor_id}"):
        request.json = school.mentor_bodies[mentor]
    elif key == ("POST", "/v1/mentorship/matches/{match_id}/decline"):
        request.json = {"note": "no time this season"}
    elif key == ("POST", "/v1/mentorship/matches/{match_id}/end"):
        request.json = {"feedback": "thank you", "rating": 5}
    elif key == ("PUT", "/v1/mentorship/policy"):
        request.json = await world.own.policy()
    elif key == ("PUT", "/v1/cohort/settings"):
        request.json = {"risk_threshold": 0.6}
    elif key == ("POST", "/v1/sessions"):
        request.json = {"code": await school.sign_in_code()}


def leaked(world: World, role: str, scope: str, text: str) -> set[str]:
    """Identifiers the caller may not see that its answer carries (operators see every school)."""
    if role == "operator" or scope == OTHER:
        return set()
    hidden = world.other.identifiers()
    if role == "student":
        hidden |= {world.own.classmate}
    return {identifier for identifier in hidden if identifier in text}


async def test_every_endpoint_the_gateway_serves_has_a_row(attack_http: httpx.AsyncClient):
    served = (await attack_http.get("/openapi.json")).json()["paths"]
    operations = {(method.upper(), path) for path, item in served.items() for method in item}
    assert operations - EXPECTATIONS.keys() == set(), "endpoints with no expectation: add them to EXPECTATIONS"
    assert EXPECTATIONS.keys() - operations == set(), "expectations for endpoints the gateway does not serve"


@pytest.mark.parametrize(("method", "path", "role", "scope"), cells())
async def test_a_role_succeeds_exactly_where_it_is_allowed(
    world: World, attack_http: httpx.AsyncClient, method: str, path: str, role: str, scope: str
):
    expected = EXPECTATIONS[(method, path)]
    allowed = scope in expected.allowed.get(role, ())
    request = await build(world, method, path, role, scope, allowed)
    reply = await attack_http.request(
        request.method, request.url, headers=request.headers, json=request.json, content=request.content
    )
    if allowed:
        assert 200 <= reply.status_code < 300, f"{role} was refused where it is allowed: {reply.text[:500]}"
        assert leaked(world, role, scope, reply.text) == set(), f"the answer to {role} carries another's records"
    else:
        assert reply.status_code in expected.refused, f"{role} got {reply.status_code}: {reply.text[:500]}"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/schools/{own}/api-keys", lambda other: {"role": "student", "student_id": other.student}),
        ("/v1/schools/{own}/sign-in-codes", lambda other: {"role": "student", "student_id": other.student}),
        ("/v1/schools/{own}/sign-in-codes", lambda other: {"role": "mentor", "mentor_id": other.mentor}),
    ],
    ids=["key for another school's student", "sign-in for another school's student", "sign-in for its mentor"],
)
async def test_a_body_naming_another_schools_record_is_refused(world: World, attack_http, path, body):
    reply = await attack_http.post(
        path.format(own=world.own.school_id), json=body(world.other), headers=world.own.admin
    )
    assert reply.status_code in {404, 422}, reply.text
