"""pip-audit over the development venv (every service's dependencies), with what can be read where it cannot.

pip-audit asks PyPI's per-release JSON (`/pypi/<name>/<version>/json`) or OSV for advisories. Where neither
answers (on these machines only PyPI's project pages and files are reachable), it skips every dependency and
still exits 0: that is no audit. So each dependency pip-audit skipped is read from PyPI's project JSON
(`/pypi/<name>/json`), whose `vulnerabilities` are PyPI's advisories for the newest release: for a dependency
pinned at the newest release, the same data pip-audit would have used; for an older one, nothing can be said
here, and the run says how many those are.

Exit status 1 when any advisory applies that is not answered in ANSWERED (and in docs/security.md)."""

import json
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
# Advisory id -> why it does not apply or what is done about it (said again in docs/security.md).
ANSWERED: dict[str, str] = {}


def pip_audit() -> list[dict]:
    pip_audit_bin = Path(sys.executable).with_name("pip-audit")
    out = subprocess.run(
        [str(pip_audit_bin), "--format", "json", "--skip-editable", "--progress-spinner", "off"],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode not in (0, 1):  # 1: advisories found, which the JSON lists
        sys.exit(f"pip-audit failed: {out.stderr.strip()}")
    return json.loads(out.stdout)["dependencies"]


def newest_release_advisories(name: str) -> tuple[str, list[dict]] | None:
    """(the newest version, its advisories), or None when PyPI's project JSON does not answer."""
    try:
        with urllib.request.urlopen(PROJECT_JSON.format(name=name), timeout=20) as reply:
            project = json.load(reply)
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError):
        return None
    return project["info"]["version"], project.get("vulnerabilities") or []


def main() -> int:
    # The project's own packages (smartpick-*) are installed editable and are what bandit reads instead.
    dependencies = [d for d in pip_audit() if not d["name"].startswith("smartpick-")]
    skipped = [d["name"] for d in dependencies if "skip_reason" in d]
    with ThreadPoolExecutor(8) as pool:
        newest_of = dict(zip(skipped, pool.map(newest_release_advisories, skipped), strict=True))
    findings: list[tuple[str, str, str]] = []
    audited_by_pip_audit = audited_here = 0
    not_auditable: list[str] = []
    for dependency in dependencies:
        name = dependency["name"]
        version = dependency.get("version") or metadata.version(name)
        if "skip_reason" not in dependency:
            audited_by_pip_audit += 1
            findings += [(name, version, vuln["id"]) for vuln in dependency.get("vulns", [])]
            continue
        newest = newest_of[name]
        if newest is None or newest[0] != version:
            not_auditable.append(f"{name} {version}")
            continue
        audited_here += 1
        findings += [(name, version, vuln["id"]) for vuln in newest[1] if not vuln.get("withdrawn")]
    open_findings = [f for f in findings if f[2] not in ANSWERED]
    print(
        f"dependency audit: {len(dependencies)} dependencies; {audited_by_pip_audit} audited by pip-audit, "
        f"{audited_here} from PyPI's advisories of their (newest) release, {len(not_auditable)} not auditable "
        f"from here (an older release, and no per-release advisories reachable)"
    )
    if not_auditable:
        print("  not audited:", ", ".join(not_auditable))
    for name, version, advisory in findings:
        answer = ANSWERED.get(advisory, "NOT ANSWERED")
        print(f"  {name} {version}: {advisory}: {answer}")
    print(f"dependency audit: {len(findings)} advisories, {len(open_findings)} not answered")
    return 1 if open_findings else 0


if __name__ == "__main__":
    sys.exit(main())
