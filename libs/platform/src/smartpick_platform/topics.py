"""Every Kafka topic of the platform, declared once: name, partitions, retention.

`python -m smartpick_platform.topics` creates the missing ones (and grows partition counts)."""

import argparse
import asyncio
from dataclasses import dataclass

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    retention_ms: int
    description: str


PROFILE_UPDATED = Topic(
    "smartpick.profile-updated.v1", 12, 7 * DAY_MS, "ProfileUpdated, keyed by student id (profile service outbox)"
)
PROFILE_UPDATED_DLQ = Topic(
    "smartpick.profile-updated.v1.dlq", 1, 30 * DAY_MS, "ProfileUpdated messages a consumer could not process"
)
RECOMMENDATIONS_GENERATED = Topic(
    "smartpick.recommendations-generated.v1", 12, 30 * DAY_MS, "RecommendationsGenerated, keyed by student id"
)
RECOMMENDATIONS_GENERATED_DLQ = Topic(
    "smartpick.recommendations-generated.v1.dlq",
    1,
    30 * DAY_MS,
    "RecommendationsGenerated messages a consumer could not process",
)
MENTORSHIP_MATCHED = Topic("smartpick.mentorship-matched.v1", 6, 30 * DAY_MS, "MentorshipMatched, keyed by student id")

ALL_TOPICS = (
    PROFILE_UPDATED,
    PROFILE_UPDATED_DLQ,
    RECOMMENDATIONS_GENERATED,
    RECOMMENDATIONS_GENERATED_DLQ,
    MENTORSHIP_MATCHED,
)


def main() -> None:
    from smartpick_platform.kafka import ensure_topics
    from smartpick_platform.settings import PlatformSettings

    parser = argparse.ArgumentParser(description="Create the platform's Kafka topics where missing.")
    parser.add_argument("--bootstrap", default=PlatformSettings().kafka_bootstrap)
    parser.add_argument("--replication-factor", type=int, default=1, help="3 on a production cluster")
    args = parser.parse_args()
    for line in asyncio.run(ensure_topics(args.bootstrap, ALL_TOPICS, args.replication_factor)):
        print(line)


if __name__ == "__main__":
    main()
