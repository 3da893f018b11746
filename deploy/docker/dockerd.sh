#!/usr/bin/env bash
# A Docker engine of the project's own, for machines that have none (Debian, as root).
#
#   dockerd.sh start     installs Debian's docker.io if dockerd is missing, starts dockerd with host
#                        networking only and waits until it answers
#   dockerd.sh stop      stops the daemon this script started (and nothing else)
#   dockerd.sh status    exit code 0 when our daemon answers
#   dockerd.sh env       prints `export DOCKER_HOST=...`; use: eval "$(deploy/docker/dockerd.sh env)"
#
# The daemon never touches the firewall or the network set-up: --iptables=false --ip6tables=false
# --bridge=none --ip-forward=false. Containers therefore run with network_mode host. Its data-root,
# exec-root, socket, pidfile and log live in $SMARTPICK_DOCKER_DIR (default <state dir>/docker).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd -P)
STATE=${SMARTPICK_STATE_DIR:-$REPO_ROOT/.state}
DIR=${SMARTPICK_DOCKER_DIR:-$STATE/docker}
[[ $DIR == /* ]] || DIR=$PWD/$DIR
SOCK=$DIR/docker.sock
PIDFILE=$DIR/dockerd.pid
LOG=$DIR/dockerd.log
START_TIMEOUT=${SMARTPICK_START_TIMEOUT:-120} # seconds
STOP_TIMEOUT=${SMARTPICK_STOP_TIMEOUT:-60}    # seconds

log() { printf '[dockerd] %s\n' "$*" >&2; }
die() {
  printf '[dockerd] ERROR: %s\n' "$*" >&2
  exit 1
}

# The client on PATH may be newer than the daemon; it negotiates the API version.
answers() { timeout 10 docker -H "unix://$SOCK" version >/dev/null 2>&1; }

# Prints the pid of the daemon we started, if it still runs (the command line must name our data-root,
# so a recycled pid or another engine's dockerd is never taken for ours).
our_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--data-root $DIR/data " || return 1
  echo "$pid"
}

install_engine() {
  command -v dockerd >/dev/null 2>&1 && return 0
  [[ $(id -u) -eq 0 ]] || die "dockerd is missing; install Debian's docker.io (needs root)"
  command -v apt-get >/dev/null 2>&1 || die "dockerd is missing and this is not a Debian system"
  log "installing Debian's docker.io (one time)"
  # The package's own service must not start: it would make a bridge and firewall rules. policy-rc.d
  # answering 101 stops maintainer scripts from starting services; add one only for this install.
  local policy=/usr/sbin/policy-rc.d added_policy=""
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=yes
  fi
  local rc=0
  {
    apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io
  } >"$DIR/apt.log" 2>&1 || rc=$?
  [[ -z $added_policy ]] || rm -f "$policy"
  ((rc == 0)) || {
    tail -n 20 "$DIR/apt.log" >&2
    die "apt-get install docker.io failed (log: $DIR/apt.log)"
  }
}

start() {
  local pid deadline
  mkdir -p "$DIR"
  [[ -e $STATE/.gitignore ]] || { mkdir -p "$STATE" && echo '*' >"$STATE/.gitignore"; }
  if pid=$(our_pid) && answers; then
    log "already running (pid $pid), DOCKER_HOST=unix://$SOCK"
    return 0
  fi
  ((${#SOCK} < 100)) || die "socket path $SOCK is too long for a unix socket; set SMARTPICK_DOCKER_DIR to a shorter path"
  ((${#DIR} < 60)) || die "$DIR is too long for containerd's sockets under it; set SMARTPICK_DOCKER_DIR to a shorter path"
  install_engine
  rm -f "$PIDFILE" "$SOCK"
  log "starting dockerd (host networking only; data in $DIR/data)"
  # setsid + nohup: a Ctrl-C aimed at our caller does not reach the daemon. Its own containerd is a
  # child it starts and stops itself (namespaced, so it never mixes with another engine's).
  setsid nohup dockerd \
    --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false \
    --data-root "$DIR/data" --exec-root "$DIR/run" --pidfile "$PIDFILE" -H "unix://$SOCK" \
    --containerd-namespace smartpick --containerd-plugins-namespace smartpick-plugins \
    </dev/null >>"$LOG" 2>&1 &
  pid=$!
  deadline=$((SECONDS + START_TIMEOUT))
  until answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$LOG" >&2
      die "dockerd exited during start-up (log: $LOG)"
    fi
    if ((SECONDS >= deadline)); then
      kill -TERM "$pid" 2>/dev/null || true
      tail -n 30 "$LOG" >&2
      die "dockerd did not answer within ${START_TIMEOUT}s (log: $LOG)"
    fi
    sleep 0.5
  done
  log "ready (pid $pid), DOCKER_HOST=unix://$SOCK"
}

# dockerd leaves the bind mount of its network namespace (run/netns/default) behind, and a killed one its
# containers' mounts too; only mounts below our own directory are touched.
unmount_leftovers() {
  findmnt -rn -o TARGET | grep -F "$DIR/" | sort -r | xargs -r -n1 umount -l || true
}

stop() {
  local pid deadline
  if ! pid=$(our_pid); then
    unmount_leftovers
    log "not running"
    return 0
  fi
  log "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after ${STOP_TIMEOUT}s, sending SIGKILL to it and its containerd"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  unmount_leftovers
  log "stopped"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status)
    if pid=$(our_pid) && answers; then echo "dockerd: running (pid $pid), DOCKER_HOST=unix://$SOCK"; else
      echo "dockerd: stopped"
      exit 1
    fi
    ;;
  env) echo "export DOCKER_HOST='unix://$SOCK'" ;;
  *)
    echo "usage: $(basename "$0") start|stop|status|env   (state: $DIR)" >&2
    exit 2
    ;;
esac
