"""Who may do what on Kafka, derived from the services manifest; and the set-up's password file."""

import stat

from smartpick_platform import kafka_access
from smartpick_platform.kafka_access import DESCRIBE, READ, WRITE, Grant
from smartpick_platform.topics import (
    MENTORSHIP_MATCHED,
    PROFILE_UPDATED,
    PROFILE_UPDATED_DLQ,
    RECOMMENDATIONS_GENERATED,
)


def test_ranking_reads_profiles_and_writes_recommendations_and_nothing_else():
    grants = kafka_access.users()["smartpick-ranking-worker"].grants
    assert grants == {
        Grant("topic", PROFILE_UPDATED.name, READ),
        Grant("topic", PROFILE_UPDATED.name, DESCRIBE),
        Grant("topic", RECOMMENDATIONS_GENERATED.name, WRITE),
        Grant("topic", RECOMMENDATIONS_GENERATED.name, DESCRIBE),
        Grant("topic", PROFILE_UPDATED_DLQ.name, WRITE),
        Grant("topic", PROFILE_UPDATED_DLQ.name, DESCRIBE),
        Grant("group", "smartpick-ranking", READ),
    }


def test_the_profile_service_only_writes_its_topic():
    assert kafka_access.users()["smartpick-profile"].grants == {
        Grant("topic", PROFILE_UPDATED.name, WRITE),
        Grant("topic", PROFILE_UPDATED.name, DESCRIBE),
    }


def test_a_partner_reads_what_it_was_granted_in_groups_of_its_own_prefix():
    grants = kafka_access.users()["partner-example"].grants
    topics = {g.name for g in grants if g.resource == "topic"}
    assert topics == {RECOMMENDATIONS_GENERATED.name, MENTORSHIP_MATCHED.name}
    assert {g.operation for g in grants} == {READ, DESCRIBE}
    assert [g for g in grants if g.resource == "group"] == [Grant("group", "partner-example-", READ, prefix=True)]


def test_processes_that_use_no_topic_have_no_kafka_user():
    assert kafka_access.client_user("gateway") is None and kafka_access.client_user("ranking") is None
    assert kafka_access.client_user("ranking-worker") == "smartpick-ranking-worker"


def test_passwords_are_made_once_random_and_kept_where_only_the_owner_reads_them(tmp_path):
    path = tmp_path / "secrets/users.json"
    first = kafka_access.load_or_create_passwords(path, ["a", "b"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first["a"] != first["b"] and min(len(p) for p in first.values()) >= 32
    again = kafka_access.load_or_create_passwords(path, ["a", "b", "c"])
    assert {k: again[k] for k in first} == first and "c" in again
