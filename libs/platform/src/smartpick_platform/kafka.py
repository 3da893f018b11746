"""Kafka helpers: an idempotent producer, manually committed consumers, CloudEvents headers, topic set-up."""

import socket
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.helpers import create_ssl_context

from smartpick_platform.settings import KafkaSecuritySettings
from smartpick_platform.telemetry import TRACE_HEADER
from smartpick_platform.topics import Topic

log = structlog.get_logger(__name__)

CE_SPECVERSION = "1.0"
CONTENT_TYPE = "application/protobuf"


def cloudevent_headers(
    *, event_id: str, event_type: str, source: str, time: datetime | None = None, trace_id: str | None = None
) -> list[tuple[str, bytes]]:
    """CloudEvents Kafka protocol binding, binary mode: attributes travel as ce_* headers."""
    headers = [
        ("ce_id", event_id),
        ("ce_type", event_type),
        ("ce_source", source),
        ("ce_time", (time or datetime.now(UTC)).isoformat()),
        ("ce_specversion", CE_SPECVERSION),
        ("content-type", CONTENT_TYPE),
    ]
    if trace_id:
        headers.append((TRACE_HEADER, trace_id))
    return [(key, value.encode()) for key, value in headers]


def header_map(headers: Sequence[tuple[str, bytes]] | None) -> dict[str, str]:
    return {key: value.decode() for key, value in headers or ()}


def security_options(settings: KafkaSecuritySettings | None = None) -> dict:
    """aiokafka's authentication arguments from SMARTPICK_KAFKA_SECURITY_PROTOCOL and the like: SCRAM on the
    local broker (stack.sh, the Kafka image), SCRAM over TLS on a cluster; each process is its own user."""
    settings = settings or KafkaSecuritySettings()
    options: dict = {"security_protocol": settings.security_protocol}
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(cafile=settings.ssl_cafile)
    if settings.security_protocol.startswith("SASL_"):
        if not settings.sasl_username or settings.sasl_password is None:
            raise ValueError(
                f"SMARTPICK_KAFKA_SECURITY_PROTOCOL={settings.security_protocol} needs "
                "SMARTPICK_KAFKA_SASL_USERNAME and SMARTPICK_KAFKA_SASL_PASSWORD"
            )
        options |= {
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": settings.sasl_password.get_secret_value(),
        }
    return options


# Bytes of one partition's batch. aiokafka's default (16 KiB) is smaller than one RecommendationsGenerated
# (about 21 KiB, a whole specialty's programs), so each event was a batch of its own, and a send waited for
# the one before it to leave (`wait_drain`): 14% of a ranking worker's time on a batch at 100 updates/s.
# Below the broker's 1 MiB message limit, as a batch must be.
MAX_BATCH_BYTES = 512 * 1024


def create_producer(bootstrap: str, client_id: str, **overrides) -> AIOKafkaProducer:
    """Idempotent producer: acks=all, so nothing acknowledged is lost and retries never duplicate."""
    defaults = {
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": 5,
        "request_timeout_ms": 15000,
        "max_batch_size": MAX_BATCH_BYTES,
    }
    return AIOKafkaProducer(
        **(security_options() | defaults | overrides), bootstrap_servers=bootstrap, client_id=client_id
    )


# Group membership. A member that stops heartbeating is dropped after SESSION_TIMEOUT_MS; heartbeats every
# HEARTBEAT_INTERVAL_MS (a third of aiokafka's 3 s) tell the others of a rebalance sooner, so a group pauses
# less each time a member comes or goes.
SESSION_TIMEOUT_MS = 10_000
HEARTBEAT_INTERVAL_MS = 1_000


def create_consumer(
    bootstrap: str, group_id: str, client_id: str, group_instance_id: str | None = None, **overrides
) -> AIOKafkaConsumer:
    """A group member that commits by hand, after its work is stored (no auto-commit).

    With a `group_instance_id` it is a static member (KIP-345): the same member started again within the
    session timeout takes back its partitions with no rebalance, so the other members never pause for it."""
    defaults = {
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        "session_timeout_ms": SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
    }
    options = security_options() | defaults | overrides
    return AIOKafkaConsumer(
        **options,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=client_id,
        group_instance_id=group_instance_id,
    )


def static_member_id(group_id: str, port: int) -> str:
    """A static member id for the process bound to `port` on this host: unique among the processes alive
    (two cannot bind one port), the same for the one started again in its place (same host, same port)."""
    return f"{group_id}-{socket.gethostname()}-{port}"


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Partition count of each named topic that exists."""
    described = await admin.describe_topics(names)
    return {d["topic"]: len(d["partitions"]) for d in described if d.get("error_code", 0) == 0 and d["partitions"]}


async def partition_count(bootstrap: str, topic: str, security: KafkaSecuritySettings | None = None) -> int:
    admin = AIOKafkaAdminClient(
        **security_options(security), bootstrap_servers=bootstrap, client_id="smartpick-describe"
    )
    await admin.start()
    try:
        counts = await _partition_counts(admin, [topic])
    finally:
        await admin.close()
    if topic not in counts:
        raise LookupError(f"topic {topic} does not exist; run python -m smartpick_platform.topics")
    return counts[topic]


async def ensure_topics(
    bootstrap: str, topics: Iterable[Topic], replication_factor: int = 1, security: KafkaSecuritySettings | None = None
) -> list[str]:
    """Creates missing topics and grows partition counts to the declared ones; returns what it did."""
    admin = AIOKafkaAdminClient(**security_options(security), bootstrap_servers=bootstrap, client_id="smartpick-topics")
    await admin.start()
    report = []
    try:
        partitions_by_name = await _partition_counts(admin, [t.name for t in topics])
        missing = [t for t in topics if t.name not in partitions_by_name]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(
                        t.name, t.partitions, replication_factor, topic_configs={"retention.ms": str(t.retention_ms)}
                    )
                    for t in missing
                ]
            )
            report += [f"created {t.name} ({t.partitions} partitions)" for t in missing]
        grow = {
            t.name: NewPartitions(t.partitions)
            for t in topics
            if t.name in partitions_by_name and partitions_by_name[t.name] < t.partitions
        }
        if grow:
            await admin.create_partitions(grow)
            report += [f"grew {name} to {p.total_count} partitions" for name, p in grow.items()]
        report += [f"ok {t.name}" for t in topics if t.name in partitions_by_name and t.name not in grow]
    finally:
        await admin.close()
    return report


def new_event_id() -> str:
    return str(uuid.uuid4())


async def send_to_dead_letter(producer: AIOKafkaProducer, record, dead_letter: Topic, reason: str, group: str):
    """Parks a message that cannot be processed, with why and where from, so the stream goes on.

    Returns the delivery future: await it before committing the message's offset."""
    headers = [
        *(record.headers or ()),
        ("x-dlq-reason", reason[:1000].encode()),
        ("x-dlq-source", f"{record.topic}:{record.partition}:{record.offset}".encode()),
        ("x-dlq-group", group.encode()),
    ]
    log.warning("dead-lettered", reason=reason, source=f"{record.topic}:{record.partition}:{record.offset}")
    return await producer.send(dead_letter.name, value=record.value, key=record.key, headers=headers)
