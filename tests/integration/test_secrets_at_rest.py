"""After the whole run: no API key's secret in any database (a pg_dump of each) or in any log of the run.

Keys are recognised by their shape (`spk_<16 hex>_<43 base64url>`), so every key the run issued counts, not
only the ones this module knows of."""

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import Stack
from infra import TEST_STATE_DIR, NativeBackend
from support import bearer

pytestmark = [pytest.mark.integration, pytest.mark.after_everything]

KEY_SHAPE = re.compile(rb"spk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")
PG_DUMP = Path("/usr/lib/postgresql/15/bin/pg_dump")


def dump(backend: NativeBackend, database_url: str) -> bytes:
    """Every table, data included, as the database superuser (over the server's socket, as stack.sh does):
    a service's own role would see only what row-level security lets it."""
    url = urlsplit(database_url)
    as_root = os.geteuid() == 0
    superuser = "postgres" if as_root else os.environ.get("USER", "")
    command = [str(PG_DUMP), "--no-owner", "-h", str(backend.state_dir / "postgres/run"), "-p", str(url.port)]
    command += ["-U", superuser, "-d", url.path.lstrip("/")]
    if as_root:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, timeout=120).stdout


async def test_no_database_dump_and_no_log_of_the_run_holds_a_key_secret(
    backend, stack: Stack, http, operator_key, new_school
):
    if not isinstance(backend, NativeBackend):
        pytest.skip("dumps as the superuser through the native server's socket; the containers backend has none")
    school = await new_school()  # at least one key issued through the API, used once more
    admin_token = school.admin["Authorization"].removeprefix("Bearer ")
    assert (await http.get(f"/v1/schools/{school.school_id}", headers=bearer(admin_token))).status_code == 200
    known = [operator_key.encode(), admin_token.encode()]

    dumps = {service: dump(backend, url) for service, url in stack.endpoints.database_urls.items()}
    assert b"CREATE TABLE public.api_keys" in dumps["gateway"]  # the dump holds the keys' table, and rows:
    assert school.school_id.encode() in dumps["gateway"]
    for service, text in dumps.items():
        assert not KEY_SHAPE.search(text), f"a key secret in the {service} database"
        assert not any(token in text or token.rsplit(b"_", 1)[1] in text for token in known)

    logs = [p for p in TEST_STATE_DIR.rglob("*") if p.is_file() and (p.suffix == ".log" or ".log." in p.name)]
    assert any(p.name == "gateway.log" for p in logs), f"no gateway log under {TEST_STATE_DIR}"
    for path in logs:
        text = path.read_bytes()
        assert not KEY_SHAPE.search(text), f"a key secret in {path}"
        assert not any(token.rsplit(b"_", 1)[1] in text for token in known), f"a key secret in {path}"
    print(f"grepped {len(dumps)} database dumps ({sum(map(len, dumps.values())) // 1024} KiB) and {len(logs)} logs")
