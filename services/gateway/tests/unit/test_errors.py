"""Bad input is a 4xx that names its field; a failure behind the gateway is a generic 5xx with the trace id."""

import asyncio
import json

import grpc
import httpx
import pytest
from pydantic import ValidationError

from smartpick_gateway.adapters.grpc_client import CallPolicy, ServiceCallFailed
from smartpick_gateway.entrypoints.app import create_app
from smartpick_gateway.entrypoints.errors import body_of, service_error
from smartpick_gateway.entrypoints.routes.mentorship import PolicyIn
from smartpick_gateway.entrypoints.schemas import ProfileIn
from smartpick_gateway.settings import GatewaySettings


class FailedCall(grpc.aio.AioRpcError):
    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


def profile(**overrides) -> dict:
    return {"degree_type": "MD", "preferences": {"specialties": ["Dermatology"], "application_budget": 30}} | overrides


def test_a_number_beyond_32_bits_is_refused_naming_its_field():
    with pytest.raises(ValidationError) as raised:
        ProfileIn.model_validate(profile(research_items=2**40))
    assert [e["loc"] for e in raised.value.errors()] == [("research_items",)]
    assert ProfileIn.model_validate(profile(research_items=12)).to_proto().research_items == 12


def answer(code: grpc.StatusCode, details: str, violations=None, body_field: str = "") -> tuple[int, dict, object]:
    reply = service_error(ServiceCallFailed("ranking", code, details, violations or {}, body_field))
    return reply.status_code, dict(reply.headers), json.loads(reply.body)["detail"]


def test_a_5xx_keeps_the_internals_in_the_logs():
    leak = 'relation "programs" does not exist: asyncpg.exceptions.UndefinedTableError'
    status, _, detail = answer(grpc.StatusCode.INTERNAL, leak)
    assert status == 502
    assert "asyncpg" not in detail and "programs" not in detail
    assert detail.startswith("the ranking service could not answer (INTERNAL); trace id")


def test_a_service_at_its_concurrency_cap_is_a_503_to_retry_in_a_second():
    status, headers, _ = answer(grpc.StatusCode.RESOURCE_EXHAUSTED, "Concurrent RPC limit exceeded!")
    assert (status, headers["retry-after"]) == (503, "1")
    assert "retry-after" not in answer(grpc.StatusCode.UNAVAILABLE, "down")[1]


def test_a_client_error_keeps_its_message_and_a_named_field_its_place_in_the_body():
    assert answer(grpc.StatusCode.NOT_FOUND, "no such student")[::2] == (404, "no such student")
    named = {"profile.preferences.states[0]": "unknown state 'XX'"}
    status, _, detail = answer(grpc.StatusCode.INVALID_ARGUMENT, "bad", named, body_field="profile")
    assert status == 422 and detail[0]["loc"] == ["body", "preferences", "states[0]"]
    assert answer(grpc.StatusCode.INVALID_ARGUMENT, "bad profile")[2] == [
        {"loc": ["body"], "msg": "bad profile", "type": "value_error"}
    ]


async def test_body_of_tells_the_answer_which_request_field_the_body_is():
    async def refused():
        raise ServiceCallFailed("profile", grpc.StatusCode.INVALID_ARGUMENT, "bad", {"profile.research_items": "< 0"})

    with pytest.raises(ServiceCallFailed) as raised:
        await body_of("profile", refused())
    assert raised.value.body_field == "profile" and raised.value.violations == {"profile.research_items": "< 0"}


async def test_every_call_gets_its_deadline_and_a_failure_becomes_service_call_failed():
    """The client's interceptor on a call the service refuses."""
    seen = []

    async def continuation(details, request):
        seen.append(details.timeout)

        async def failed():
            raise FailedCall(grpc.StatusCode.FAILED_PRECONDITION, "a newer round replaced this one")

        return failed()

    policy = CallPolicy("mentorship", timeout_seconds=2.5)
    details = grpc.aio.ClientCallDetails("/m.v1.S/PublishRound", None, None, None, None)
    with pytest.raises(ServiceCallFailed) as raised:
        await policy.intercept_unary_unary(continuation, details, object())
    assert seen == [2.5]
    assert (raised.value.service, raised.value.code) == ("mentorship", grpc.StatusCode.FAILED_PRECONDITION)
    assert raised.value.details == "a newer round replaced this one"
    await asyncio.gather(
        policy.intercept_unary_unary(continuation, details._replace(timeout=9.0), object()), return_exceptions=True
    )
    assert seen[-1] == 9.0  # a deadline the caller chose is kept


async def test_an_unexpected_failure_answers_only_the_trace_id():
    """Without its start-up the app has no database: the key lookup fails as a bug would."""
    app = create_app(GatewaySettings(database_url="postgresql://unused/unused"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        reply = await http.get("/v1/students", headers={"Authorization": "Bearer spk_0123456789abcdef_secret"})
    assert reply.status_code == 500
    trace = reply.headers["traceparent"]
    assert reply.json() == {"detail": f"the gateway failed unexpectedly; trace id {trace}"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"medical_school_state": "C\x00"}, ("medical_school_state",)),
        ({"medical_school_state": "\udc80"}, ("medical_school_state",)),
        ({"preferences": {"specialties": ["Derm\x00"], "application_budget": 30}}, ("preferences", "specialties")),
    ],
    ids=["a NUL", "a lone surrogate", "a NUL in a list"],
)
def test_text_no_database_can_store_is_refused_naming_its_field(overrides, field):
    with pytest.raises(ValidationError) as raised:
        ProfileIn.model_validate(profile(**overrides))
    assert [e["loc"] for e in raised.value.errors()] == [field]


def test_a_number_that_is_not_finite_is_refused():
    """Python's JSON reader takes NaN and Infinity; a body never does."""
    with pytest.raises(ValidationError) as raised:
        PolicyIn.model_validate(json.loads('{"weights": {"specialty": 1}, "min_score": NaN}'))
    assert [e["loc"] for e in raised.value.errors()] == [("min_score",)]


def test_a_number_given_as_true_or_false_is_refused_and_a_whole_number_is_taken():
    from smartpick_gateway.entrypoints.routes.mentorship import MentorIn

    body = {"display_name": "Dr A", "specialty": "Dermatology", "capacity": 1}
    with pytest.raises(ValidationError) as raised:
        MentorIn.model_validate(body | {"availability_hours_per_month": False})
    assert [e["loc"] for e in raised.value.errors()] == [("availability_hours_per_month",)]
    assert MentorIn.model_validate(body | {"availability_hours_per_month": 3}).availability_hours_per_month == 3.0


def test_a_flag_or_a_count_of_another_type_is_refused():
    with pytest.raises(ValidationError) as raised:
        ProfileIn.model_validate(profile(aoa_member=0, research_items="12"))
    assert [e["loc"] for e in raised.value.errors()] == [("research_items",), ("aoa_member",)]


async def test_a_body_that_is_not_text_is_a_422_naming_the_body():
    app = create_app(GatewaySettings(database_url="postgresql://unused/unused"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        reply = await http.post("/v1/try-it", content=b"\xff\xfe{", headers={"Content-Type": "application/json"})
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["body"]
