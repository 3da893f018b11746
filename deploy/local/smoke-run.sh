#!/usr/bin/env bash
# Smoke test of the native path, as a user meets it: `make run` until it prints its URL, the README's curl
# example and a profile save through the API, then Ctrl-C (SIGINT to make and everything it started) and a
# check that every process stopped. Uses the fixed ports of `make run` (8080, 19092, 15432, ...), which must
# be free, and the repository's own .state (as `make run` does).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd -P)
DEMO=$REPO_ROOT/.state/demo
LOG=$REPO_ROOT/.state/logs/make-run-smoke.log
START_TIMEOUT=${SMARTPICK_START_TIMEOUT:-300} # seconds, a cold first start fetches the Kafka jars
BASE_URL=http://127.0.0.1:8080

log() { printf '[make-run-smoke] %s\n' "$*" >&2; }
die() {
  printf '[make-run-smoke] ERROR: %s\n' "$*" >&2
  tail -n 40 "$LOG" >&2 || true
  exit 1
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for port in 8080 19092 15432; do port_open "$port" && die "port $port is in use; stop what runs there (make stop?)"; done
mkdir -p "$(dirname "$LOG")"
log "make run (output: $LOG)"
# Its own process group, so that one SIGINT reaches make and the launcher the way Ctrl-C would.
setsid make -C "$REPO_ROOT" run </dev/null >"$LOG" 2>&1 &
RUN_PID=$!
interrupt() {
  if kill -0 "$RUN_PID" 2>/dev/null; then
    kill -INT -- "-$RUN_PID" 2>/dev/null || true
    for _ in $(seq 120); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.5; done
  fi
}
trap interrupt EXIT

deadline=$((SECONDS + START_TIMEOUT))
until grep -q '^Smart Pick is running at' "$LOG"; do
  kill -0 "$RUN_PID" 2>/dev/null || die "make run exited before it was ready"
  ((SECONDS < deadline)) || die "make run was not ready within ${START_TIMEOUT}s"
  sleep 1
done
grep -q "^Try it:  curl" "$LOG" || die "make run printed no curl example"

# The curl example make run prints (also in .state/demo/curl-example.txt), run as it is.
PROFILE=$(bash "$DEMO/curl-example.txt")
python3 -c 'import json, sys; body = json.loads(sys.argv[1]); assert body["version"] >= 1, body' "$PROFILE" ||
  die "the curl example answered: $PROFILE"

# "A first session with the API": list the students with a school admin's key, save a profile.
KEY=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["schools"][0]["admin_key"])' "$DEMO/credentials.json")
STUDENT=$(curl -fsS -H "Authorization: Bearer $KEY" "$BASE_URL/v1/students" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["students"][0]["student_id"])')
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' -H "Idempotency-Key: smoke-$RANDOM" \
  -d '{"degree_type":"MD","step2_ck_score":258,"research_items":15,
       "preferences":{"specialties":["Dermatology"],"application_budget":70}}' \
  "$BASE_URL/v1/students/$STUDENT/profile")
[[ $STATUS == 202 ]] || die "PUT profile answered $STATUS, not 202"

log "Ctrl-C"
interrupt
trap - EXIT
kill -0 "$RUN_PID" 2>/dev/null && die "make run still runs 60s after Ctrl-C"
for port in 8080 50051 19092 15432; do port_open "$port" && die "port $port still open after make run stopped"; done
log "OK: make run started, answered the README's examples, and stopped everything on Ctrl-C"
