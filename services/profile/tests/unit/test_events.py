import uuid

from smartpick.profile.v1 import profile_pb2

from smartpick_profile.events import profile_event_id, profile_updated, profile_updated_message


def test_event_id_is_one_per_version():
    assert profile_event_id("t", "s", 1) == profile_event_id("t", "s", 1)
    assert profile_event_id("t", "s", 1) != profile_event_id("t", "s", 2)
    assert profile_event_id("t", "s", 1) != profile_event_id("t", "other", 1)


def test_profile_updated_carries_the_version_and_snapshot():
    version = profile_pb2.ProfileVersion(
        tenant_id="t", student_id="s", version=3, profile=profile_pb2.ApplicantProfile(research_items=7)
    )
    event = profile_updated(version)
    assert (event.tenant_id, event.student_id, event.profile_version) == ("t", "s", 3)
    assert event.profile.research_items == 7
    assert event.event_id == str(profile_event_id("t", "s", 3))


def test_the_outbox_message_is_keyed_by_student_with_cloudevent_headers():
    version = profile_pb2.ProfileVersion(tenant_id=str(uuid.uuid4()), student_id="s", version=2)
    message = profile_updated_message(version)
    headers = dict(message.headers)
    assert (message.topic, message.key) == ("smartpick.profile-updated.v1", "s")
    assert headers["ce_id"].decode() == str(message.event_id) == str(profile_event_id(version.tenant_id, "s", 2))
    assert headers["ce_source"] == b"/smartpick/profile"
