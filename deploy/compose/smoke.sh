#!/usr/bin/env bash
# Runs the compose file for real: starts the whole system from the images, loads the web app's first page, walks
# the README's "With Docker" example (operator key, school, student, a saved profile read back), then takes
# everything down with its volumes. Uses the ports of `make run` (8080, 19092, 15432, ...), which must be free.
# Needs the images (deploy/images/build-images.sh) and a Docker engine (DOCKER_HOST).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT=${SMARTPICK_COMPOSE_PROJECT:-smartpick-smoke}
BASE_URL=http://127.0.0.1:8080
START_TIMEOUT=${SMARTPICK_START_TIMEOUT:-180} # seconds

log() { printf '[compose] %s\n' "$*" >&2; }
die() {
  printf '[compose] ERROR: %s\n' "$*" >&2
  exit 1
}

# Debian's docker-compose (1.29), or the compose plugin of a newer client.
if command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  log "installing Debian's docker-compose"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-compose; } \
    >/dev/null || die "apt-get install docker-compose failed"
  COMPOSE=(docker-compose)
else
  die "neither docker-compose nor 'docker compose' is available"
fi
COMPOSE+=(-p "$PROJECT" -f "$SCRIPT_DIR/docker-compose.yml")

# The value at a dotted path of the JSON document on stdin.
json() {
  python3 -c 'import functools, json, sys; print(functools.reduce(dict.get, sys.argv[1].split("."), json.load(sys.stdin)))' "$1"
}

down() {
  local rc=$?
  if ((rc != 0)); then
    "${COMPOSE[@]}" ps >&2 || true
    "${COMPOSE[@]}" logs --tail 20 >&2 || true
  fi
  "${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || log "compose down failed"
}
trap down EXIT

"$SCRIPT_DIR/secrets.sh" # the Kafka passwords (deploy/compose/.env), made once
log "starting the system (${COMPOSE[*]} up -d)"
"${COMPOSE[@]}" up -d
deadline=$((SECONDS + START_TIMEOUT))
until curl -fsS "$BASE_URL/readyz" >/dev/null 2>&1; do
  ((SECONDS < deadline)) || die "the gateway was not ready within ${START_TIMEOUT}s"
  sleep 1
done

# The web app from the gateway image: the try-it page and a script it loads (a gateway without web/dist answers 503).
PAGE=$(curl -fsS "$BASE_URL/") || die "GET / on the gateway container failed (the image lacks the web app?)"
SCRIPT=$(grep -o '/assets/[^"]*\.js' <<<"$PAGE" | head -n 1)
[[ -n $SCRIPT ]] || die "GET / answered no page with a script: ${PAGE:0:200}"
curl -fsS -o /dev/null "$BASE_URL$SCRIPT" || die "GET $SCRIPT on the gateway container failed"
log "OK: the gateway container serves the web app"

# The README's walk-through, step by step.
OPERATOR=$("${COMPOSE[@]}" exec -T gateway smartpick-gateway issue-operator-key 2>/dev/null | tail -n 1)
[[ $OPERATOR == spk_* ]] || die "no operator key from the gateway container"
SCHOOL=$(curl -fsS -X POST -H "Authorization: Bearer $OPERATOR" -H 'Content-Type: application/json' \
  -d '{"name": "Compose Smoke School"}' "$BASE_URL/v1/schools")
KEY=$(json admin_api_key.api_key <<<"$SCHOOL")
STUDENT=$(curl -fsS -X POST -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d '{"external_ref": "SMOKE-1", "display_name": "Smoke Student"}' "$BASE_URL/v1/students" | json student_id)
SAVED=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' -H 'Idempotency-Key: my-first-save' \
  -d '{"degree_type":"MD","step2_ck_score":258,"research_items":15,
       "preferences":{"specialties":["Dermatology"],"application_budget":70}}' \
  "$BASE_URL/v1/students/$STUDENT/profile")
[[ $SAVED == 202 ]] || die "PUT profile answered $SAVED, not 202"
VERSION=$(curl -fsS -H "Authorization: Bearer $KEY" "$BASE_URL/v1/students/$STUDENT/profile" | json version)
[[ $VERSION == 1 ]] || die "profile read back at version $VERSION, not 1"
log "OK: school, student and profile version 1 through the gateway container"
