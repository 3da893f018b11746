"""What the compose file, the Kubernetes manifests, the settings and the code say agrees with the services manifest
(libs/platform/src/smartpick_platform/services.toml) and the topics (smartpick_platform.topics)."""

import pytest
import validate
import yaml

from smartpick_gateway.settings import GatewaySettings
from smartpick_mentorship.entrypoints import consumer as mentorship_consumer
from smartpick_mentorship.entrypoints.main import Settings as MentorshipSettings
from smartpick_platform import kafka_access, services, topics
from smartpick_profile.entrypoints.main import Settings as ProfileSettings
from smartpick_ranking.entrypoints import worker as ranking_worker
from smartpick_ranking.entrypoints.main import Settings as RankingSettings

MANIFEST = services.manifest()
PROCESSES = list(MANIFEST.processes.values())
KAFKA_CLIENTS = [p for p in PROCESSES if p.reads or p.writes]
TOPICS = {t.name: t for t in topics.ALL_TOPICS}


def env_name(process: services.Process, key: str) -> str:
    return f"{MANIFEST.services[process.service].env_prefix}{key.upper()}"


@pytest.fixture(scope="module", params=validate.OVERLAYS)
def rendered(request) -> dict[tuple[str, str], dict]:
    return {(r["kind"], r["metadata"]["name"]): r for r in validate.render(request.param)}


def container(resources, name: str) -> dict:
    return resources[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]


def env(spec: dict) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in spec.get("env", [])}


# --- the manifest itself and the code ------------------------------------------------------------------------


def test_every_topic_the_manifest_names_is_declared():
    named = {t for p in PROCESSES for t in (*p.reads, *p.writes)}
    assert named <= TOPICS.keys()


def test_consumer_groups_are_those_of_the_code():
    assert MANIFEST.process("ranking-worker").consumer_group == ranking_worker.GROUP_ID
    assert MANIFEST.process("mentorship").consumer_group == mentorship_consumer.GROUP_ID


def test_settings_defaults_are_the_manifest_ports():
    for settings, process in [(ProfileSettings, "profile"), (MentorshipSettings, "mentorship")]:
        for key, port in MANIFEST.process(process).ports.items():
            assert settings.model_fields[key].default == port
    for process in ("ranking", "ranking-worker"):
        for key, port in MANIFEST.process(process).ports.items():
            assert RankingSettings.model_fields[key].default == port
    gateway = MANIFEST.process("gateway")
    assert GatewaySettings.model_fields["http_port"].default == gateway.ports["http_port"]
    for callee in gateway.calls:
        target = GatewaySettings.model_fields[f"{callee}_grpc_target"].default
        assert target == f"127.0.0.1:{MANIFEST.process(callee).grpc_port}"


def test_a_manifest_calling_a_process_without_grpc_is_refused():
    document = {
        "services": {"a": {"package": "smartpick-a", "database": "smartpick_a"}},
        "processes": {
            "a": {"service": "a", "args": [], "ports": {"ops_port": 1}, "health_port": "ops_port"},
            "b": {"service": "a", "args": [], "ports": {"ops_port": 2}, "health_port": "ops_port", "calls": ["a"]},
        },
    }
    for process in document["processes"].values():
        process.setdefault("calls", [])
        process |= {"reads": [], "writes": []}
    with pytest.raises(ValueError, match="serves no gRPC port"):
        services.parse(document)


# --- compose -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((validate.REPO / "deploy/compose/docker-compose.yml").read_text())["services"]


def test_compose_runs_every_process_with_the_manifest_ports(compose):
    for process in PROCESSES:
        service = compose[process.name]
        assert service["image"] == f"smartpick/{process.service}:latest"
        assert tuple(service.get("command", ())) == process.args
        environment = service["environment"]
        for key, port in process.ports.items():
            assert environment[env_name(process, key)] == str(port), (process.name, key)
        for callee in process.calls:
            target = f"127.0.0.1:{MANIFEST.process(callee).grpc_port}"
            assert environment[env_name(process, f"{callee}_grpc_target")] == target
        if process.health_port not in ("ops_port", "http_port"):
            assert environment["SMARTPICK_HEALTHCHECK_PORT"] == str(process.health)


def test_compose_gives_each_kafka_client_its_own_user_and_password(compose):
    for process in PROCESSES:
        environment = compose[process.name]["environment"]
        user = kafka_access.client_user(process.name)
        assert environment.get("SMARTPICK_KAFKA_SASL_USERNAME") == user, process.name
        if user:
            assert environment["SMARTPICK_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
            assert environment["SMARTPICK_KAFKA_SASL_PASSWORD"].startswith(
                f"${{{kafka_access.password_variable(user)}:?"
            )
    users = compose["kafka-users"]["environment"]
    assert {k for k in users if k.startswith("SMARTPICK_KAFKA_PASSWORD_")} == {
        kafka_access.password_variable(name) for name in kafka_access.users()
    }


# --- Kubernetes ----------------------------------------------------------------------------------------------


def test_a_deployment_per_process_with_its_arguments_image_ports_and_probes(rendered):
    deployments = {name for kind, name in rendered if kind == "Deployment"}
    assert deployments == set(MANIFEST.processes)
    for process in PROCESSES:
        spec = container(rendered, process.name)
        assert tuple(spec.get("args", ())) == process.args
        assert spec["image"].rsplit(":", 1)[0].endswith(f"smartpick/{process.service}")
        ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
        assert sorted(ports.values()) == sorted(process.ports.values())
        for key, port in process.ports.items():
            assert env(spec)[env_name(process, key)] == str(port), (process.name, key)
        health = spec["readinessProbe"]["httpGet"]
        assert (health["path"], ports[health["port"]]) == ("/readyz", process.health)
        liveness = spec["livenessProbe"]["httpGet"]
        assert (liveness["path"], ports[liveness["port"]]) == ("/healthz", process.health)
        if process.grpc_port is not None:
            # The kubelet's gRPC probe has no client certificate; /healthz answers once gRPC serves.
            startup = spec["startupProbe"]["httpGet"]
            assert (startup["path"], ports[startup["port"]]) == ("/healthz", process.health)


def test_services_expose_the_grpc_ports_and_the_gateway_targets_them(rendered):
    for process in PROCESSES:
        if process.grpc_port is None and process.name != "gateway":
            assert ("Service", process.name) not in rendered
            continue
        ports = {p["name"]: p["port"] for p in rendered[("Service", process.name)]["spec"]["ports"]}
        expected = process.grpc_port if process.grpc_port is not None else process.ports["http_port"]
        assert expected in ports.values()
    gateway = MANIFEST.process("gateway")
    for callee in gateway.calls:
        target = env(container(rendered, "gateway"))[env_name(gateway, f"{callee}_grpc_target")]
        assert target == f"{callee}:{MANIFEST.process(callee).grpc_port}"


def test_each_process_uses_its_own_database_and_each_database_has_a_migration_job(rendered):
    for process in PROCESSES:
        url = env(container(rendered, process.name))[env_name(process, "database_url")]
        assert url == {"secretKeyRef": {"name": f"smartpick-{process.service}-db", "key": "uri"}}
    for name, service in MANIFEST.services.items():
        job = rendered[("Job", f"migrate-{name}")]["spec"]["template"]["spec"]
        first = (job.get("initContainers") or job["containers"])[0]
        assert first["command"] == ["python3", "-m", "smartpick_platform.migrate", name]
        migration_env = env(first)
        assert migration_env[f"{service.env_prefix}MIGRATION_DATABASE_URL"] == {
            "secretKeyRef": {"name": f"smartpick-{name}-owner-db", "key": "uri"}
        }
        assert f"{service.env_prefix}DATABASE_URL" not in migration_env  # the migration role's credentials only
        assert rendered[("Database", service.database.replace("_", "-"))]["spec"]["owner"] == service.migration_role


def test_each_database_has_a_migration_role_and_a_runtime_role_neither_bypassing_rls(rendered):
    roles = {r["name"]: r for r in rendered[("Cluster", "smartpick-db")]["spec"]["managed"]["roles"]}
    services = MANIFEST.services.values()
    assert sorted(roles) == sorted([s.runtime_role for s in services] + [s.migration_role for s in services])
    for role in roles.values():
        assert role["login"] and not (role["superuser"] or role["bypassrls"] or role["createrole"]), role["name"]


def test_a_disruption_budget_for_every_deployment(rendered):
    budgets = {
        r["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for (k, _), r in rendered.items()
        if k == "PodDisruptionBudget"
    }
    assert budgets == set(MANIFEST.processes)


def test_kafka_clients_are_exactly_the_processes_that_read_or_write_topics(rendered):
    for process in PROCESSES:
        labels = rendered[("Deployment", process.name)]["spec"]["template"]["metadata"]["labels"]
        is_client = labels.get("smartpick.io/kafka-client") == "true"
        assert is_client == (process in KAFKA_CLIENTS), process.name
        if is_client:
            assert (
                env(container(rendered, process.name))["SMARTPICK_KAFKA_SASL_USERNAME"] == f"smartpick-{process.name}"
            )


def test_kafka_users_may_use_only_the_topics_and_group_of_the_manifest(rendered):
    for process in KAFKA_CLIENTS:
        acls = rendered[("KafkaUser", f"smartpick-{process.name}")]["spec"]["authorization"]["acls"]
        granted = {(a["resource"]["type"], a["resource"]["name"], op) for a in acls for op in a["operations"]}
        expected = {("topic", t, op) for t in process.reads for op in ("Read", "Describe")}
        expected |= {("topic", t, op) for t in process.writes for op in ("Write", "Describe")}
        if process.consumer_group:
            expected.add(("group", process.consumer_group, "Read"))
        assert granted == expected, process.name
        assert all(a["resource"]["patternType"] == "literal" for a in acls)


def test_the_local_brokers_users_and_acls_are_those_of_the_kafka_users(rendered):
    """The local set-up (kafka_access) grants each user exactly what its KafkaUser grants in production."""
    for user in kafka_access.users().values():
        acls = rendered[("KafkaUser", user.name)]["spec"]["authorization"]["acls"]
        granted = {
            kafka_access.Grant(resource["type"], resource["name"], op, resource["patternType"] == "prefix")
            for resource, operations in ((a["resource"], a["operations"]) for a in acls)
            for op in operations
        }
        assert granted == set(user.grants), user.name
    assert set(kafka_access.users()) >= {f"smartpick-{p.name}" for p in KAFKA_CLIENTS} | set(MANIFEST.partners)


def test_topics_are_those_of_the_code_replicated_three_times_in_production():
    production = {(r["kind"], r["metadata"]["name"]): r for r in validate.render("production")}
    declared = {name: r["spec"] for (kind, name), r in production.items() if kind == "KafkaTopic"}
    assert declared.keys() == TOPICS.keys()
    for name, spec in declared.items():
        assert spec["topicName"] == name
        assert spec["partitions"] == TOPICS[name].partitions
        assert spec["config"]["retention.ms"] == TOPICS[name].retention_ms
        assert (spec["replicas"], spec["config"]["min.insync.replicas"]) == (3, 2)
    kafka = production[("Kafka", "smartpick-kafka")]["spec"]["kafka"]["config"]
    assert (kafka["default.replication.factor"], kafka["min.insync.replicas"]) == (3, 2)
    pools = [r["spec"] for (kind, _), r in production.items() if kind == "KafkaNodePool"]
    assert sum(p["replicas"] for p in pools if "broker" in p["roles"]) == 3


def test_ranking_workers_scale_on_their_group_lag_up_to_the_partitions(rendered):
    worker = MANIFEST.process("ranking-worker")
    scaled = rendered[("ScaledObject", "ranking-worker")]["spec"]
    trigger = scaled["triggers"][0]["metadata"]
    assert (trigger["consumerGroup"], trigger["topic"]) == (worker.consumer_group, worker.reads[0])
    assert scaled["maxReplicaCount"] <= TOPICS[worker.reads[0]].partitions
    assert trigger["allowIdleConsumers"] == "false"


def test_network_policies_allow_exactly_the_calls_of_the_manifest(rendered):
    policies = [r["spec"] for (kind, _), r in rendered.items() if kind == "NetworkPolicy"]

    def selected(spec, name):
        labels = spec["podSelector"].get("matchLabels", {})
        return labels.get("app.kubernetes.io/name") == name

    for callee in (p for p in PROCESSES if p.grpc_port is not None):
        callers = {p.name for p in PROCESSES if callee.name in p.calls}
        allowed = set()
        for spec in policies:
            if selected(spec, callee.name):
                for rule in spec.get("ingress", []):
                    if any(port["port"] == callee.grpc_port for port in rule.get("ports", [])):
                        allowed |= {
                            peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in rule["from"]
                        }
        assert allowed == callers, callee.name
    for caller in (p for p in PROCESSES if p.calls):
        egress = [rule for spec in policies if selected(spec, caller.name) for rule in spec.get("egress", [])]
        reached = {
            (rule["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"], rule["ports"][0]["port"])
            for rule in egress
        }
        assert reached == {(c, MANIFEST.process(c).grpc_port) for c in caller.calls}
