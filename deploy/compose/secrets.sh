#!/usr/bin/env bash
# Makes deploy/compose/.env (mode 600, git-ignored) once: the Kafka passwords the compose file substitutes, the
# broker admin's and controller's and each client user's of smartpick_platform.kafka_access, all random. Run it
# before the first `docker-compose up`; it keeps an existing file.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd -P)
ENV_FILE=$SCRIPT_DIR/.env
PYTHON=${PYTHON:-$REPO_ROOT/.venv/bin/python}

[[ -e $ENV_FILE ]] && exit 0
[[ -x $PYTHON ]] || { echo "[compose] run 'make install' first (needs $PYTHON)" >&2; exit 1; }
umask 077
"$PYTHON" - >"$ENV_FILE.partial" <<'PY'
import secrets

from smartpick_platform import kafka_access

print("# Made by deploy/compose/secrets.sh: the Kafka passwords of the compose file. Keep it out of git.")
print(f"SMARTPICK_KAFKA_ADMIN_PASSWORD={secrets.token_urlsafe(24)}")
print(f"SMARTPICK_KAFKA_CONTROLLER_PASSWORD={secrets.token_urlsafe(24)}")
for user in kafka_access.users():
    print(f"{kafka_access.password_variable(user)}={secrets.token_urlsafe(24)}")
PY
mv "$ENV_FILE.partial" "$ENV_FILE"
echo "[compose] wrote $ENV_FILE" >&2
