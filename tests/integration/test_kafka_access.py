"""Kafka lets in only its users, holds each to its ACLs, and its consumers park events that do not validate.

Direct attempts without credentials or with a wrong password are refused by the broker; a service's user can
use only the topics of the services manifest (smartpick_platform.kafka_access); a partner sees only the topics
it was granted; and an event forged by a client that may write the topic goes to the dead-letter topic with
its reason while the partition goes on."""

import logging
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from smartpick.events.v1 import recommendation_events_pb2
from support import read_topic
from test_ranking_flow import publish, synthetic_event

from smartpick_platform.event_checks import MAX_PROFILE_VERSION
from smartpick_platform.kafka import header_map
from smartpick_platform.topics import (
    MENTORSHIP_MATCHED,
    PROFILE_UPDATED,
    PROFILE_UPDATED_DLQ,
    RECOMMENDATIONS_GENERATED,
)

pytestmark = pytest.mark.integration

TOPIC_AUTHORIZATION_FAILED = 29  # Kafka's error code


async def refused(producer: AIOKafkaProducer) -> None:
    try:
        with pytest.raises(KafkaConnectionError):
            await producer.start()
    finally:
        await producer.stop()


async def test_a_client_without_credentials_is_refused(stack):
    await refused(AIOKafkaProducer(bootstrap_servers=stack.endpoints.kafka_bootstrap, request_timeout_ms=5000))


async def test_a_client_with_a_wrong_password_is_refused_as_such(stack, caplog):
    options = stack.endpoints.kafka_options("smartpick-profile") | {"sasl_plain_password": "not-the-password"}
    with caplog.at_level(logging.ERROR, logger="aiokafka"):
        await refused(AIOKafkaProducer(**options, request_timeout_ms=5000))
    assert "Authentication failed during authentication due to invalid credentials" in caplog.text


async def test_a_service_user_cannot_write_a_topic_it_is_not_granted(stack):
    for user, topic in [
        ("smartpick-ranking-worker", PROFILE_UPDATED.name),  # only the profile service writes profiles
        ("smartpick-mentorship", RECOMMENDATIONS_GENERATED.name),
        ("smartpick-profile", MENTORSHIP_MATCHED.name),
        ("partner-example", RECOMMENDATIONS_GENERATED.name),  # partners only read
    ]:
        producer = AIOKafkaProducer(**stack.endpoints.kafka_options(user), request_timeout_ms=5000)
        await producer.start()
        try:
            with pytest.raises(TopicAuthorizationFailedError):
                await producer.send_and_wait(topic, b"forged", key=b"forged")
        finally:
            await producer.stop()


async def test_a_service_user_cannot_read_a_topic_it_is_not_granted(stack):
    consumer = AIOKafkaConsumer(**stack.endpoints.kafka_options("smartpick-profile"), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(PROFILE_UPDATED.name, 0)])  # it writes that topic, never reads it
        with pytest.raises(TopicAuthorizationFailedError):
            for _ in range(20):
                await consumer.getmany(timeout_ms=250)
    finally:
        await consumer.stop()


async def test_a_partner_sees_only_the_topics_it_was_granted_in_groups_of_its_own(stack):
    key = f"partner-probe-{uuid.uuid4()}"
    admin = AIOKafkaProducer(**stack.endpoints.kafka_options())
    await admin.start()
    try:
        sent = await admin.send_and_wait(PROFILE_UPDATED.name, b"a profile", key=key.encode())
    finally:
        await admin.stop()

    partner = stack.endpoints.kafka_options("partner-example")
    consumer = AIOKafkaConsumer(**partner, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        assert await consumer.topics() == {RECOMMENDATIONS_GENERATED.name, MENTORSHIP_MATCHED.name}
        consumer.assign([TopicPartition(PROFILE_UPDATED.name, sent.partition)])
        await consumer.seek_to_beginning()
        got = [r for _ in range(12) for rs in (await consumer.getmany(timeout_ms=250)).values() for r in rs]
        assert got == []  # while the admin reads it at once:
        assert len(await read_topic(stack.endpoints, PROFILE_UPDATED.name, key, expect=1, settle=0)) == 1
    finally:
        await consumer.stop()

    describer = AIOKafkaAdminClient(**partner)
    await describer.start()
    try:
        (described,) = await describer.describe_topics([PROFILE_UPDATED.name])
        assert described["error_code"] == TOPIC_AUTHORIZATION_FAILED
    finally:
        await describer.close()

    # Its own groups work; the services' groups are not for it to join (or disrupt).
    for group, refusal in [("partner-example-crm", None), ("smartpick-ranking", GroupAuthorizationFailedError)]:
        member = AIOKafkaConsumer(**partner, group_id=group, enable_auto_commit=False)
        await member.start()
        try:
            member.subscribe([RECOMMENDATIONS_GENERATED.name])
            if refusal is None:
                for _ in range(20):
                    if member.assignment():
                        break
                    await member.getmany(timeout_ms=500)
                assert member.assignment()
            else:
                with pytest.raises(refusal):
                    await member.getmany(timeout_ms=2000)
        finally:
            await member.stop()


async def test_a_forged_event_is_dead_lettered_with_its_reason_and_the_partition_goes_on(stack, new_school):
    """Written with the profile service's own credentials (a compromised or buggy producer): ACLs let it in,
    the consumers' checks do not. Same key, so same partition: the valid event behind them is still served."""
    school = await new_school()
    student = str(uuid.uuid4())
    forged_version = synthetic_event(school.school_id, student, 2**62, 1)
    forged_tenant = synthetic_event("not-a-uuid", student, 3, 1)
    valid = synthetic_event(school.school_id, student, 1, 4)
    await publish(
        stack.endpoints,
        [(student.encode(), event.SerializeToString()) for event in (forged_version, forged_tenant, valid)],
        user="smartpick-profile",
    )
    # Each consumer group of the topic (ranking, mentorship) parks its own copy of both.
    parked = await read_topic(stack.endpoints, PROFILE_UPDATED_DLQ.name, student, expect=4)
    reasons = sorted((header_map(r.headers)["x-dlq-group"], header_map(r.headers)["x-dlq-reason"]) for r in parked)
    version_reason = f"ProfileUpdated: profile_version must be between 1 and {MAX_PROFILE_VERSION}, got {2**62}"
    tenant_reason = "ProfileUpdated: tenant_id must be a UUID (lowercase, hyphenated), got 'not-a-uuid'"
    assert reasons == sorted(
        (group, reason)
        for group in ("smartpick-mentorship", "smartpick-ranking")
        for reason in (version_reason, tenant_reason)
    )
    produced = await read_topic(stack.endpoints, RECOMMENDATIONS_GENERATED.name, student, expect=1)
    events = [recommendation_events_pb2.RecommendationsGenerated.FromString(r.value) for r in produced]
    assert [e.profile_version for e in events] == [1]
