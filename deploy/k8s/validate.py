"""Renders every overlay of deploy/k8s with kustomize and validates it offline, without a cluster.

Built-in kinds are checked against the Kubernetes schemas kubernetes-validate ships (strict: an unknown field is
an error). Custom resources are checked against the openAPIV3Schema of their CRDs, taken from the operators'
Go modules (`make install` copies them to .venv/share/crds: KEDA's, CloudNativePG's, cert-manager's), with the
API server's rule that a field the schema does not declare is an error. No package ships Strimzi's CRDs (its api jar on
Maven Central holds only the Java model), so Strimzi's kinds are reported as unchecked by schema; tests/deploy
checks what matters in them (topics, replication, ACLs) against the code and the services manifest.

Run: .venv/bin/python deploy/k8s/validate.py   (exit 1 on any error)"""

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

K8S = Path(__file__).resolve().parent
REPO = K8S.parents[1]
OVERLAYS = sorted(p.parent.name for p in (K8S / "overlays").glob("*/kustomization.yaml"))
KUSTOMIZE = REPO / ".venv/bin/kustomize"
CRD_DIR = REPO / ".venv/share/crds"
KUBERNETES_VERSION = "1.33.0"
SCHEMALESS_GROUPS = {"kafka.strimzi.io"}


def render(overlay: str) -> list[dict]:
    """The resources `kustomize build` makes of one overlay."""
    if not KUSTOMIZE.exists():
        raise FileNotFoundError(f"{KUSTOMIZE} is missing: run `make install`")
    out = subprocess.run(
        [str(KUSTOMIZE), "build", str(K8S / "overlays" / overlay)], check=True, capture_output=True, text=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def crd_schemas(crd_dir: Path = CRD_DIR) -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> openAPIV3Schema, for every CRD file in crd_dir."""
    if not crd_dir.is_dir() or not any(crd_dir.glob("*.yaml")):
        raise FileNotFoundError(f"no CRDs in {crd_dir}: run `make install`")
    schemas = {}
    for path in sorted(crd_dir.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schemas[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return schemas


def undeclared_fields(value, schema: dict, path: str = "") -> list[str]:
    """Fields the schema does not declare (the API server prunes or, strictly, rejects them)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found = []
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if properties is not None and key in properties:
                found += undeclared_fields(item, properties[key], f"{path}.{key}")
            elif isinstance(additional, dict):
                found += undeclared_fields(item, additional, f"{path}.{key}")
            elif properties is not None and additional is not True:
                found.append(f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += undeclared_fields(item, schema["items"], f"{path}[{index}]")
    return found


def resource_name(resource: dict) -> str:
    return f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"


@dataclass
class Report:
    overlay: str
    checked: int = 0
    errors: list[str] = field(default_factory=list)
    unchecked_kinds: set[str] = field(default_factory=set)


def validate(overlay: str, resources: list[dict], schemas: dict[tuple[str, str], dict]) -> Report:
    report = Report(overlay)
    for resource in resources:
        name = resource_name(resource)
        key = (resource.get("apiVersion", ""), resource.get("kind", ""))
        group = key[0].split("/")[0] if "/" in key[0] else ""
        if key in schemas:
            schema = schemas[key]
            for error in jsonschema.Draft7Validator(schema).iter_errors(resource):
                report.errors.append(f"{name}: {'.'.join(map(str, error.absolute_path))}: {error.message}")
            report.errors += [f"{name}: unknown field {f}" for f in undeclared_fields(resource, schema)]
        elif group in SCHEMALESS_GROUPS:
            report.unchecked_kinds.add(f"{key[0]} {key[1]}")
            continue
        else:
            try:
                kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as error:
                report.errors.append(f"{name}: {'.'.join(map(str, error.path))}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError:
                report.errors.append(f"{name}: no schema for {key[0]} {key[1]} (neither built in nor a known CRD)")
        report.checked += 1
    return report


def main() -> int:
    schemas = crd_schemas()
    failed = False
    for overlay in OVERLAYS:
        resources = render(overlay)
        report = validate(overlay, resources, schemas)
        print(
            f"{overlay}: {len(resources)} resources, {report.checked} valid against their schemas"
            f"{', ' + str(len(report.errors)) + ' errors' if report.errors else ''}; "
            f"no schema shipped for: {', '.join(sorted(report.unchecked_kinds)) or 'none'}"
        )
        for error in report.errors:
            print(f"  {error}")
        failed |= bool(report.errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
