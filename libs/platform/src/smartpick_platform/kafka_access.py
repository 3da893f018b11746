"""Who may do what on Kafka: one SCRAM-SHA-512 user per Kafka client process of the services manifest and per
partner, each held by ACLs to the topics the manifest says it reads and writes and to its consumer group; the
broker's StandardAuthorizer refuses whatever no ACL allows. Strimzi's KafkaUsers (deploy/k8s/infrastructure/
kafka-users.yaml) declare the same grants for production; tests/deploy checks them against this module.

`python -m smartpick_platform.kafka_access [--passwords FILE]` is the local set-up (`make run` and the tests
call `apply` directly, the compose file runs this): as the broker's admin (SMARTPICK_KAFKA_SASL_USERNAME /
_PASSWORD), it sets each user's password, from FILE (a JSON object, user -> password; the missing ones are
generated into it) or else from SMARTPICK_KAFKA_PASSWORD_<USER> (e.g. SMARTPICK_KAFKA_PASSWORD_SMARTPICK_PROFILE),
adds the ACLs the users lack and deletes those they should not have. Safe to repeat."""

import argparse
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from smartpick_platform import services
from smartpick_platform.settings import KafkaSecuritySettings

ADMIN_USER = "smartpick-admin"  # the broker's super user: the set-up and an operator's tools, never a service
READ, WRITE, DESCRIBE = "Read", "Write", "Describe"


@dataclass(frozen=True, order=True)
class Grant:
    """One allowed operation on a topic or a consumer group (a name, or every name with this prefix)."""

    resource: str  # "topic" | "group"
    name: str
    operation: str
    prefix: bool = False


@dataclass(frozen=True)
class KafkaUser:
    name: str
    grants: frozenset[Grant]


def user_name(process: services.Process) -> str:
    return f"smartpick-{process.name}"


def _topic_grants(reads, writes) -> set[Grant]:
    grants = {Grant("topic", t, op) for t in reads for op in (READ, DESCRIBE)}
    return grants | {Grant("topic", t, op) for t in writes for op in (WRITE, DESCRIBE)}


def users(manifest: services.Manifest | None = None) -> dict[str, KafkaUser]:
    """Every user of the platform's clients: the manifest's processes that read or write a topic, and partners.

    Producers need no IDEMPOTENT_WRITE grant: Write on a topic implies it (Kafka 2.8+, KIP-679)."""
    manifest = manifest or services.manifest()
    found = {}
    for process in manifest.processes.values():
        if not (process.reads or process.writes):
            continue
        grants = _topic_grants(process.reads, process.writes)
        if process.consumer_group:
            grants.add(Grant("group", process.consumer_group, READ))
        found[user_name(process)] = KafkaUser(user_name(process), frozenset(grants))
    for partner in manifest.partners.values():
        grants = _topic_grants(partner.reads, ()) | {Grant("group", f"{partner.name}-", READ, prefix=True)}
        found[partner.name] = KafkaUser(partner.name, frozenset(grants))
    return found


def client_user(process: str, manifest: services.Manifest | None = None) -> str | None:
    """The Kafka user a process of the manifest authenticates as, or None when it uses no topic."""
    process_ = (manifest or services.manifest()).process(process)
    return user_name(process_) if process_.reads or process_.writes else None


def load_or_create_passwords(path: Path, names) -> dict[str, str]:
    """The users' passwords kept in `path` (mode 600), a fresh random one for each user not there yet."""
    known = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in names if name not in known]
    if missing:
        known |= {name: secrets.token_urlsafe(24) for name in missing}
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            json.dump(known, out, indent=2, sort_keys=True)
        partial.replace(path)
    return {name: known[name] for name in names}


def password_variable(user: str) -> str:
    return "SMARTPICK_KAFKA_PASSWORD_" + user.upper().replace("-", "_")


def passwords_from_environment(names) -> dict[str, str]:
    missing = [password_variable(name) for name in names if not os.environ.get(password_variable(name))]
    if missing:
        raise SystemExit(f"set {', '.join(missing)} (or give --passwords FILE)")
    return {name: os.environ[password_variable(name)] for name in names}


def client_config(bootstrap: str, security: KafkaSecuritySettings) -> dict[str, str]:
    """librdkafka's settings (confluent-kafka, which has the ACL and SCRAM admin calls aiokafka lacks)."""
    config = {"bootstrap.servers": bootstrap, "security.protocol": security.security_protocol}
    if security.security_protocol.startswith("SASL_"):
        config |= {
            "sasl.mechanism": security.sasl_mechanism,
            "sasl.username": security.sasl_username or "",
            "sasl.password": security.sasl_password.get_secret_value() if security.sasl_password else "",
        }
    if security.ssl_cafile:
        config["ssl.ca.location"] = security.ssl_cafile
    return config


def apply(bootstrap: str, security: KafkaSecuritySettings, passwords: dict[str, str], timeout: float = 30) -> list[str]:
    """Sets the passwords and makes every user's ACLs exactly its grants; returns what it did."""
    from confluent_kafka import admin as kafka_admin

    wanted = users()
    client = kafka_admin.AdminClient(client_config(bootstrap, security))
    scram = kafka_admin.ScramCredentialInfo(kafka_admin.ScramMechanism.SCRAM_SHA_512, 8192)
    upserts = [kafka_admin.UserScramCredentialUpsertion(name, scram, passwords[name].encode()) for name in wanted]
    for future in client.alter_user_scram_credentials(upserts, request_timeout=timeout).values():
        future.result()
    report = [f"password set for {name}" for name in wanted]

    def binding(user: str, grant: Grant):
        return kafka_admin.AclBinding(
            kafka_admin.ResourceType[grant.resource.upper()],
            grant.name,
            kafka_admin.ResourcePatternType.PREFIXED if grant.prefix else kafka_admin.ResourcePatternType.LITERAL,
            f"User:{user}",
            "*",
            kafka_admin.AclOperation[grant.operation.upper()],
            kafka_admin.AclPermissionType.ALLOW,
        )

    every = kafka_admin.AclBindingFilter(
        kafka_admin.ResourceType.ANY,
        None,
        kafka_admin.ResourcePatternType.ANY,
        None,
        None,
        kafka_admin.AclOperation.ANY,
        kafka_admin.AclPermissionType.ANY,
    )
    existing = client.describe_acls(every, request_timeout=timeout).result()
    desired = {binding(user.name, grant) for user in wanted.values() for grant in user.grants}
    ours = {f"User:{name}" for name in wanted}
    stale = [b for b in existing if b.principal in ours and b not in desired]
    missing = [b for b in desired if b not in set(existing)]
    if stale:
        for future in client.delete_acls(stale, request_timeout=timeout).values():
            future.result()
        report += [f"revoked {b}" for b in stale]
    if missing:
        for future in client.create_acls(missing, request_timeout=timeout).values():
            future.result()
        report.append(f"granted {len(missing)} ACLs")
    report.append(f"ACLs of {len(wanted)} users as declared")
    return report


def main() -> None:
    from smartpick_platform.settings import PlatformSettings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", default=PlatformSettings().kafka_bootstrap)
    parser.add_argument("--passwords", type=Path, help="JSON file of user -> password (made if missing)")
    args = parser.parse_args()
    names = list(users())
    passwords = load_or_create_passwords(args.passwords, names) if args.passwords else passwords_from_environment(names)
    for line in apply(args.bootstrap, KafkaSecuritySettings(), passwords):
        print(line)


if __name__ == "__main__":
    main()
