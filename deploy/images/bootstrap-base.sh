#!/usr/bin/env bash
# Builds the base image every Dockerfile of the project starts FROM, for machines where no image
# registry can be reached: Debian bookworm made with debootstrap (from the Debian archive), imported
# with `docker import` and tagged $SMARTPICK_BASE_IMAGE (default smartpick/debian:bookworm).
# Does nothing when that tag already exists. Needs root (debootstrap) and a Docker engine (DOCKER_HOST).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd -P)
STATE=${SMARTPICK_STATE_DIR:-$REPO_ROOT/.state}
BASE_IMAGE=${SMARTPICK_BASE_IMAGE:-smartpick/debian:bookworm}
MIRROR=${SMARTPICK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SMARTPICK_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SUITE=bookworm

log() { printf '[base] %s\n' "$*" >&2; }
die() {
  printf '[base] ERROR: %s\n' "$*" >&2
  exit 1
}

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "$BASE_IMAGE is present"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || die "debootstrap needs root"
if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap; } \
    >/dev/null || die "apt-get install debootstrap failed"
fi

mkdir -p "$STATE/images"
ROOTFS=$(mktemp -d "$STATE/images/rootfs.XXXXXX")
LOG=$STATE/images/debootstrap.log
# debootstrap mounts /proc and /sys inside the tree: never delete while anything is mounted below it.
cleanup() {
  local mounts
  mounts=$(findmnt -rn -o TARGET | grep -F "$ROOTFS/" | sort -r || true)
  [[ -z $mounts ]] || xargs -r -n1 umount -l <<<"$mounts" || true
  if findmnt -rn -o TARGET | grep -qF "$ROOTFS/"; then
    log "leaving $ROOTFS in place: something is still mounted below it"
  else
    rm -rf --one-file-system "$ROOTFS"
  fi
}
trap cleanup EXIT

log "debootstrap $SUITE (minbase) from $MIRROR into $ROOTFS (log: $LOG)"
debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$LOG" 2>&1 || {
  tail -n 30 "$LOG" >&2
  die "debootstrap failed"
}

# The same archive for apt inside image builds, with updates and security fixes; no recommends, no
# caches kept in layers.
cat >"$ROOTFS/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
SOURCES
cat >"$ROOTFS/etc/apt/apt.conf.d/90smartpick" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
APT
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/90smartpick-nodoc" <<'DPKG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/log/*.log \
  "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/*
# Some maintainer scripts (Java's) link into the man directories even when man pages are left out.
mkdir -p "$ROOTFS"/usr/share/man/man{1..8}

log "importing as $BASE_IMAGE"
tar --numeric-owner --xattrs -C "$ROOTFS" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
  docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' \
    --message "debootstrap --variant=minbase $SUITE $MIRROR" - "$BASE_IMAGE" >/dev/null
log "$BASE_IMAGE imported ($(docker image inspect -f "{{.Size}}" "$BASE_IMAGE" | numfmt --to=iec))"
