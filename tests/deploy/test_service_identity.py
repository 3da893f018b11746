"""Every process that serves or calls gRPC has its own service's certificate, in Kubernetes and in compose."""

import pytest
import validate
import yaml

from smartpick_platform import services

MANIFEST = services.manifest()
# The services whose processes serve gRPC or call a service that does: they need an identity.
TLS_SERVICES = sorted({p.service for p in MANIFEST.processes.values() if p.grpc_port is not None or p.calls})
TLS_PROCESSES = [p for p in MANIFEST.processes.values() if p.grpc_port is not None or p.calls]


@pytest.fixture(scope="module", params=validate.OVERLAYS)
def rendered(request) -> dict[tuple[str, str], dict]:
    return {(r["kind"], r["metadata"]["name"]): r for r in validate.render(request.param)}


def test_cert_manager_issues_each_service_a_certificate_naming_it(rendered):
    certificates = {name: r["spec"] for (kind, name), r in rendered.items() if kind == "Certificate"}
    for service in TLS_SERVICES:
        spec = certificates[service]
        assert spec["commonName"] == service
        assert service in spec["dnsNames"] and f"{service}.smartpick.svc.cluster.local" in spec["dnsNames"]
        assert spec["secretName"] == f"smartpick-{service}-tls"
        assert spec["privateKey"]["algorithm"] == "ECDSA" and spec["privateKey"]["size"] == 256
        assert spec["issuerRef"]["name"] == "smartpick-internal"
    assert rendered[("Issuer", "smartpick-internal")]["spec"]["ca"]["secretName"] == "smartpick-internal-ca"


def test_each_deployment_mounts_its_own_services_secret_where_the_settings_point(rendered):
    config = rendered[("ConfigMap", "smartpick-platform")]["data"]
    for process in TLS_PROCESSES:
        pod = rendered[("Deployment", process.name)]["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["tls"]["secret"]["secretName"] == f"smartpick-{process.service}-tls", process.name
        mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "tls")
        assert mount.get("readOnly") is True
        for key, file in [("CA", "ca.crt"), ("CERT", "tls.crt"), ("KEY", "tls.key")]:
            assert config[f"SMARTPICK_TLS_{key}_FILE"] == f"{mount['mountPath']}/{file}"


def test_compose_gives_each_process_its_own_services_certificate():
    compose = yaml.safe_load((validate.REPO / "deploy/compose/docker-compose.yml").read_text())["services"]
    for process in TLS_PROCESSES:
        service = compose[process.name]
        environment = service["environment"]
        assert environment["SMARTPICK_TLS_CERT_FILE"] == f"/etc/smartpick/tls/{process.service}.pem"
        assert environment["SMARTPICK_TLS_KEY_FILE"] == f"/etc/smartpick/tls/{process.service}.key"
        assert environment["SMARTPICK_TLS_CA_FILE"] == "/etc/smartpick/tls/ca.pem"
        assert "identity:/etc/smartpick/tls:ro" in service["volumes"]
        assert service["depends_on"]["identity"]["condition"] == "service_completed_successfully"
