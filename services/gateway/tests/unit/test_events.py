from smartpick.profile.v1 import profile_pb2

from smartpick_gateway.domain.events import profile_event_id, profile_updated


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
