"""One trace from the HTTP request through gRPC, the outbox and Kafka to the ranking workers' event."""

from support import add_student, profile, read_topic

from smartpick_platform.kafka import header_map
from smartpick_platform.topics import PROFILE_UPDATED, RECOMMENDATIONS_GENERATED

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def trace_id(traceparent: str) -> str:
    return traceparent.split("-")[1]


async def test_a_profile_save_keeps_the_callers_trace_to_the_recommendations(stack, http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    saved = await http.put(
        f"/v1/students/{student}/profile", json=profile(), headers={**school.admin, "traceparent": CALLER}
    )
    assert saved.status_code == 202, saved.text
    assert trace_id(saved.headers["traceparent"]) == trace_id(CALLER)

    updated = await read_topic(stack.endpoints, PROFILE_UPDATED.name, student, expect=1)
    assert trace_id(header_map(updated[0].headers)["traceparent"]) == trace_id(CALLER)
    ranked = await read_topic(stack.endpoints, RECOMMENDATIONS_GENERATED.name, student, expect=1)
    assert trace_id(header_map(ranked[0].headers)["traceparent"]) == trace_id(CALLER)
