"""How a platform consumer joins its group: commits by hand, heartbeats often, and, given an instance id,
as a static member that a restart puts back in its place without a rebalance."""

import socket

from smartpick_platform import kafka


async def test_a_consumer_commits_by_hand_and_heartbeats_often():
    consumer = kafka.create_consumer("127.0.0.1:9", "group", "client")
    assert consumer._enable_auto_commit is False
    assert consumer._group_instance_id is None
    assert (consumer._session_timeout_ms, consumer._heartbeat_interval_ms) == (10_000, 1_000)


async def test_a_consumer_given_an_instance_id_is_a_static_member():
    member = kafka.static_member_id("smartpick-ranking", 8092)
    consumer = kafka.create_consumer("127.0.0.1:9", "smartpick-ranking", "client", group_instance_id=member)
    assert consumer._group_instance_id == f"smartpick-ranking-{socket.gethostname()}-8092"


def test_static_member_ids_differ_by_port_and_stay_the_same_for_one():
    assert kafka.static_member_id("g", 8092) == kafka.static_member_id("g", 8092)
    assert kafka.static_member_id("g", 8092) != kafka.static_member_id("g", 8093)
