from datetime import UTC, datetime

from smartpick_platform.kafka import cloudevent_headers, header_map
from smartpick_platform.topics import ALL_TOPICS


def test_cloudevent_headers_carry_the_required_attributes():
    headers = header_map(
        cloudevent_headers(
            event_id="e1", event_type="t", source="/s", time=datetime(2026, 1, 2, tzinfo=UTC), trace_id="abc"
        )
    )
    assert headers == {
        "ce_id": "e1",
        "ce_type": "t",
        "ce_source": "/s",
        "ce_time": "2026-01-02T00:00:00+00:00",
        "ce_specversion": "1.0",
        "content-type": "application/protobuf",
        "traceparent": "abc",
    }


def test_topic_names_are_unique_and_versioned():
    names = [t.name for t in ALL_TOPICS]
    assert len(names) == len(set(names))
    assert all(".v1" in name and t.partitions > 0 for name, t in zip(names, ALL_TOPICS, strict=True))
