"""After the whole run: no API key's secret in any database (a pg_dump of each) or in any log of the run.

Keys are recognised by their shape (`spk_<16 hex>_<43 base64url>`), so every key the run issued counts, not
only the ones this module knows of. The dumps are the backend's (the native server's own pg_dump, or the one in
the PostgreSQL container); on the containers backend the containers' output is searched too."""

import re

import pytest
from conftest import Stack
from infra import TEST_STATE_DIR, InfraBackend
from support import bearer

pytestmark = [pytest.mark.integration, pytest.mark.after_everything]

KEY_SHAPE = re.compile(rb"spk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")


async def test_no_database_dump_and_no_log_of_the_run_holds_a_key_secret(
    backend: InfraBackend, stack: Stack, http, operator_key, new_school
):
    school = await new_school()  # at least one key issued through the API, used once more
    admin_token = school.admin["Authorization"].removeprefix("Bearer ")
    assert (await http.get(f"/v1/schools/{school.school_id}", headers=bearer(admin_token))).status_code == 200
    known = [operator_key.encode(), admin_token.encode()]

    dumps = {service: backend.dump_database(url) for service, url in stack.endpoints.database_urls.items()}
    assert b"CREATE TABLE public.api_keys" in dumps["gateway"]  # the dump holds the keys' table, and rows:
    assert school.school_id.encode() in dumps["gateway"]
    for service, text in dumps.items():
        assert not KEY_SHAPE.search(text), f"a key secret in the {service} database"
        assert not any(token in text or token.rsplit(b"_", 1)[1] in text for token in known)

    files = [p for p in TEST_STATE_DIR.rglob("*") if p.is_file() and (p.suffix == ".log" or ".log." in p.name)]
    assert any(p.name == "gateway.log" for p in files), f"no gateway log under {TEST_STATE_DIR}"
    logs = {str(path): path.read_bytes() for path in files} | backend.infrastructure_logs()
    for name, text in logs.items():
        assert not KEY_SHAPE.search(text), f"a key secret in {name}"
        assert not any(token.rsplit(b"_", 1)[1] in text for token in known), f"a key secret in {name}"
    print(f"grepped {len(dumps)} database dumps ({sum(map(len, dumps.values())) // 1024} KiB) and {len(logs)} logs")
