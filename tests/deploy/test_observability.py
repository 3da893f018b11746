"""The alert rules and the dashboard ask only for metrics that something exports."""

import json
import re

import validate
import yaml

MONITORING = validate.K8S / "base/monitoring"
DEFINED = re.compile(r"""(?:Counter|Histogram|Gauge)\(\s*["'](smartpick_[a-z0-9_]+)["']""")
USED = re.compile(r"\b(smartpick_[a-z0-9_]+|kafka_[a-z0-9_]+|kube_[a-z0-9_]+|container_[a-z0-9_]+)\b")
# Metrics of the exporters the manifests deploy or assume: Strimzi's Kafka Exporter, kube-state-metrics, cAdvisor.
EXPORTERS = {
    "kafka_consumergroup_lag",
    "kube_deployment_status_replicas",
    "kube_deployment_status_replicas_available",
    "container_cpu_usage_seconds_total",
}


def exported() -> set[str]:
    names = set()
    for path in [*validate.REPO.glob("services/*/src/**/*.py"), *validate.REPO.glob("libs/platform/src/**/*.py")]:
        for name in DEFINED.findall(path.read_text()):
            names |= {name, f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    return names


def expressions() -> list[str]:
    rules = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    exprs = [rule["expr"] for group in rules["spec"]["groups"] for rule in group["rules"]]
    dashboard = json.loads((MONITORING / "smartpick.json").read_text())
    return exprs + [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_metric_an_alert_or_panel_uses_is_exported():
    known = exported() | EXPORTERS
    used = {name for expr in expressions() for name in USED.findall(expr)}
    assert used, "no metric found in the rules"
    assert used - known == set()


def test_the_rules_cover_lag_outbox_dead_letters_errors_and_latency():
    alerts = {
        rule["alert"]
        for group in yaml.safe_load((MONITORING / "alerts.yaml").read_text())["spec"]["groups"]
        for rule in group["rules"]
    }
    assert {
        "SmartPickRankingLag",
        "SmartPickOutboxBacklog",
        "SmartPickDeadLetters",
        "SmartPickHttp5xx",
        "SmartPickHttpP99",
    } <= alerts
