"""Every overlay renders, and every resource is valid against its schema (offline: no cluster)."""

import copy

import pytest
import validate


@pytest.fixture(scope="module")
def schemas():
    return validate.crd_schemas()


@pytest.mark.parametrize("overlay", validate.OVERLAYS)
def test_every_resource_of_the_overlay_is_valid(overlay, schemas):
    report = validate.validate(overlay, validate.render(overlay), schemas)
    assert report.errors == []
    assert report.checked > 30
    # Only Strimzi's kinds go unchecked by schema (no package ships its CRDs); anything else must have one.
    assert {kind.split(" ")[0] for kind in report.unchecked_kinds} == {"kafka.strimzi.io/v1beta2"}


def test_both_overlays_exist():
    assert validate.OVERLAYS == ["local", "production"]


def _first(resources, kind, name=None):
    return next(r for r in resources if r["kind"] == kind and (name is None or r["metadata"]["name"] == name))


@pytest.fixture(scope="module")
def production():
    return validate.render("production")


def test_an_unknown_field_of_a_deployment_is_an_error(production, schemas):
    deployment = copy.deepcopy(_first(production, "Deployment", "gateway"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    assert any("readinessProbes" in e for e in validate.validate("x", [deployment], schemas).errors)


def test_a_wrong_type_in_a_scaled_object_is_an_error(production, schemas):
    scaled = copy.deepcopy(_first(production, "ScaledObject"))
    scaled["spec"]["maxReplicaCount"] = "twelve"
    assert any("maxReplicaCount" in e for e in validate.validate("x", [scaled], schemas).errors)


def test_an_unknown_field_of_a_postgres_cluster_is_an_error(production, schemas):
    cluster = copy.deepcopy(_first(production, "Cluster"))
    cluster["spec"]["instancez"] = 3
    assert validate.validate("x", [cluster], schemas).errors == ["Cluster/smartpick-db: unknown field .spec.instancez"]


def test_a_kind_without_any_schema_is_an_error(schemas):
    made_up = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert validate.validate("x", [made_up], schemas).errors == [
        "Widget/w: no schema for example.com/v1 Widget (neither built in nor a known CRD)"
    ]


def test_the_local_overlay_never_pulls_the_images_it_loads():
    for resource in validate.render("local"):
        if resource["kind"] in ("Deployment", "Job"):
            spec = resource["spec"]["template"]["spec"]
            for container in [*spec.get("initContainers", []), *spec["containers"]]:
                assert container["image"].endswith(":latest")
                assert container.get("imagePullPolicy") == "IfNotPresent", resource["metadata"]["name"]


@pytest.mark.parametrize("overlay", validate.OVERLAYS)
def test_every_pod_runs_unprivileged_without_a_token(overlay):
    for resource in validate.render(overlay):
        if resource["kind"] in ("Deployment", "Job"):
            spec = resource["spec"]["template"]["spec"]
            assert spec["automountServiceAccountToken"] is False
            assert spec["securityContext"]["runAsNonRoot"] is True
            for container in [*spec.get("initContainers", []), *spec["containers"]]:
                context = container["securityContext"]
                assert context["readOnlyRootFilesystem"] and not context["allowPrivilegeEscalation"]
                assert context["capabilities"] == {"drop": ["ALL"]}
                assert "memory" in container["resources"]["limits"], resource["metadata"]["name"]
