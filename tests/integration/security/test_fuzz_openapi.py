"""schemathesis against the OpenAPI the gateway serves, with a key of each role: valid and invalid inputs at
every operation, aimed at real records of the caller's school where an input is valid.

Held to: no 5xx; every status, content type, header and body as the OpenAPI documents it; invalid input
refused with a 4xx; every 422 naming its field; and (were there any) every 5xx body generic with the trace id."""

import asyncio
import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import schemathesis
from devstack import VENV_BIN
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi import checks as openapi_checks
from world import World, make_world

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).with_name("schemathesis.toml")
FUZZED_ROLES = ("operator", "admin", "advisor", "student", "mentor", "none")
TRACE_ID = re.compile(r"trace id 00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def a_422_names_its_field(ctx, response, case) -> None:
    """Each entry of a 422 says where (loc) and what (msg); a CSV's rows say their column."""
    if response.status_code != 422:
        return
    body = response.json()
    if body.get("errors"):
        assert all(row.get("column") and row.get("message") for row in body["errors"]), response.text
        return
    detail = body["detail"]
    assert isinstance(detail, list) and detail, f"a 422 that names no field: {response.text}"
    for entry in detail:
        assert entry.get("loc") and entry.get("msg"), f"a 422 entry without loc and msg: {entry}"


def a_5xx_says_only_the_trace_id(ctx, response, case) -> None:
    if response.status_code < 500:
        return
    detail = response.json().get("detail", "")
    assert TRACE_ID.search(detail) and len(detail) < 200, f"a 5xx body that says more than it should: {detail}"


CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
    a_422_names_its_field,
    a_5xx_says_only_the_trace_id,
]


def served_openapi() -> dict:
    """The OpenAPI the gateway serves, from the gateway's own command (the app built, not started): the
    operations must be known when pytest collects them; `test_the_fuzzed_openapi_is_the_served_one` holds
    it to what the running gateway answers."""
    out = subprocess.run([str(VENV_BIN / "smartpick-gateway"), "openapi"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


schema = schemathesis.openapi.from_dict(served_openapi(), config=SchemathesisConfig.from_path(CONFIG))


@pytest.fixture(scope="session")
def fuzz_world(attack_gateway: str, operator_key: str) -> World:
    """Schools of the fuzzing's own: what it changes (a mentor's registration, a policy) touches no other test.
    Made on a loop of its own (in a thread), as the fuzzing runs outside pytest's."""

    async def make() -> World:
        async with httpx.AsyncClient(base_url=attack_gateway, timeout=30) as http:
            return await make_world(http, operator_key)

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, make()).result()


def real_records(world: World) -> dict[str, str]:
    school = world.own
    return {
        "school_id": school.school_id,
        "student_id": school.student,
        "mentor_id": school.mentor,
        "round_id": school.round_id,
        "match_id": school.match,
    }


async def test_the_fuzzed_openapi_is_the_served_one(attack_http: httpx.AsyncClient):
    assert (await attack_http.get("/openapi.json")).json() == schema.raw_schema


@schema.parametrize()
def test_no_input_breaks_the_gateway_or_its_contract(case, fuzz_world: World, attack_gateway: str):
    """Each generated input is sent once with every role's key (and once with none)."""
    if case.meta is not None and case.meta.generation.mode.is_positive:
        records = real_records(fuzz_world)
        for name in case.path_parameters or {}:
            if name in records:
                case.path_parameters[name] = records[name]
    for role in FUZZED_ROLES:
        try:
            case.call_and_validate(base_url=attack_gateway, headers=fuzz_world.key(role), checks=CHECKS)
        except Exception as failure:
            failure.add_note(f"sent with the {role} role's key")
            raise
