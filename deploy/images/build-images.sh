#!/usr/bin/env bash
# Builds the project's images, only those whose inputs changed since they were last built here.
#
#   build-images.sh [all | infra | services | IMAGE...]     IMAGE: kafka, postgres, or a service of the manifest
#
# The Python services are the services manifest's (libs/platform/src/smartpick_platform/services.toml), each built
# from the one Dockerfile deploy/images/service/Dockerfile with its package, ports and health port as arguments.
#
# Builds fetch nothing over TLS: Python wheels (each service's own dependencies, from its pyproject, plus
# smartpick-platform with its generated protobuf code) are built on the host with pip, and the Kafka jars are
# copied by Maven from deploy/local/kafka/pom.xml; Debian packages come from the Debian archive. Every image
# starts FROM $SMARTPICK_BASE_IMAGE (default smartpick/debian:bookworm, made by bootstrap-base.sh when missing).
# A service that serves the web app (the manifest's web_app: the gateway) carries web/dist, built first on the host
# by `make web` (npm ci from web/package-lock.json, then Vite).
# An image carries the hash of its inputs (label org.smartpick.inputs) and is rebuilt only when it differs.
# Needs a Docker engine (DOCKER_HOST; deploy/docker/dockerd.sh starts one) and the containers use host networking.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd -P)
STATE=${SMARTPICK_STATE_DIR:-$REPO_ROOT/.state}
WORK=$STATE/images
BASE_IMAGE=${SMARTPICK_BASE_IMAGE:-smartpick/debian:bookworm}
PREFIX=${SMARTPICK_IMAGE_PREFIX:-smartpick/}
TAG=${SMARTPICK_IMAGE_TAG:-latest}
INFRA=(postgres kafka)
SERVICES_MANIFEST=$REPO_ROOT/libs/platform/src/smartpick_platform/services.toml
# Reads the manifest with the standard library's tomllib (Debian's python3 is 3.11).
manifest() {
  python3 - "$SERVICES_MANIFEST" "$@" <<'PY'
import sys, tomllib
manifest = tomllib.load(open(sys.argv[1], "rb"))
if len(sys.argv) == 2:
    print(*manifest["services"])
    sys.exit()
service = sys.argv[2]
processes = [p for p in manifest["processes"].values() if p["service"] == service]
first = processes[0]  # the service's main process: its default arguments and health port
ports = sorted({port for p in processes for port in p["ports"].values()})
host = "HTTP_HOST" if any("http_port" in p["ports"] for p in processes) else "GRPC_HOST"
print(f"PACKAGE={manifest['services'][service]['package']}")
print(f"DEFAULT_ARGS={' '.join(first['args'])}")
print(f"HOST_SETTING=SMARTPICK_{service.upper().replace('-', '_')}_{host}")
print(f"PORTS={' '.join(map(str, ports))}")
print(f"HEALTH_PORT={first['ports'][first['health_port']]}")
if manifest["services"][service].get("web_app"):
    print(f"WEB_DIR_SETTING=SMARTPICK_{service.upper().replace('-', '_')}_WEB_DIR")
PY
}
read -r -a SERVICES <<<"$(manifest)"
LABEL=org.smartpick.inputs
# The legacy builder: BuildKit needs the buildx plugin, which a bare client may lack.
export DOCKER_BUILDKIT=0

log() { printf '[images] %s\n' "$*" >&2; }
die() {
  printf '[images] ERROR: %s\n' "$*" >&2
  exit 1
}

is_service() { [[ " ${SERVICES[*]} " == *" $1 "* ]]; }
serves_web_app() { is_service "$1" && manifest "$1" | grep -q '^WEB_DIR_SETTING='; }
# The Dockerfile's stage an image is: a service's `service`, or `web-app` for one that serves the web app.
target() { if serves_web_app "$1"; then echo web-app; elif is_service "$1"; then echo service; fi; }
dockerfile() { if is_service "$1"; then echo "$SCRIPT_DIR/service/Dockerfile"; else echo "$SCRIPT_DIR/$1/Dockerfile"; fi; }

# --build-arg flags of an image: the base, and for a service what the manifest says of it.
build_args() {
  local arg
  echo "--build-arg=BASE_IMAGE=$BASE_IMAGE"
  if is_service "$1"; then
    while IFS= read -r arg; do echo "--build-arg=$arg"; done < <(manifest "$1")
  elif [[ $1 == postgres ]]; then
    echo "--build-arg=DB_SERVICES=${SERVICES[*]}"
  fi
}

# The files an image is made of (tracked or new, never ignored ones such as generated code or caches).
input_files() {
  local paths
  if is_service "$1"; then
    paths=(libs/platform proto "services/$1" deploy/images/service)
    ! serves_web_app "$1" || paths+=(web)
  else
    paths=("deploy/images/$1" libs/platform/src/smartpick_platform/services.toml)
    [[ $1 != kafka ]] || paths+=(deploy/local/kafka/pom.xml deploy/local/kafka/server.properties.template)
  fi
  git -C "$REPO_ROOT" ls-files --cached --others --exclude-standard -- "${paths[@]}" |
    grep -Ev '(^|/)tests/' | sort -u
}

inputs_hash() {
  local file
  {
    echo "image $1 base $(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")"
    while IFS= read -r file; do
      # A tracked file deleted in the work tree is simply not an input.
      if [[ -f $REPO_ROOT/$file ]]; then sha256sum "$REPO_ROOT/$file" | sed "s|$REPO_ROOT/||"; fi
    done < <(input_files "$1")
  } | sha256sum | cut -d' ' -f1
}

built_hash() { docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$PREFIX$1:$TAG" 2>/dev/null || true; }

python_for_wheels() {
  local python=$REPO_ROOT/.venv/bin/python
  [[ -x $python ]] || python=$(command -v python3)
  # Wheels with compiled code must match the images' Python (Debian bookworm's 3.11).
  "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
    die "$python is not Python 3.11, which the images run; wheels built with it would not install"
  echo "$python"
}

PLATFORM_WHEEL=""
platform_wheel() {
  [[ -n $PLATFORM_WHEEL ]] && return 0
  local out=$WORK/wheels/platform
  rm -rf "$out"
  log "building the smartpick-platform wheel (with the protobuf code generated from proto/)"
  "$(python_for_wheels)" -m pip wheel -q --no-deps -w "$out" "$REPO_ROOT/libs/platform" >&2
  PLATFORM_WHEEL=$(echo "$out"/smartpick_platform-*.whl)
  [[ -f $PLATFORM_WHEEL ]] || die "no smartpick-platform wheel in $out"
}

# Fills the build context of one image.
prepare_context() {
  local image=$1 ctx=$2
  rm -rf "$ctx"
  mkdir -p "$ctx"
  case $image in
    kafka)
      cp "$SCRIPT_DIR/kafka/entrypoint.sh" "$SCRIPT_DIR/kafka/log4j2.xml" "$REPO_ROOT/deploy/local/kafka/server.properties.template" "$ctx/"
      log "kafka: copying the broker's jars with Maven (deploy/local/kafka/pom.xml)"
      mvn -q -B -Dstyle.color=never -f "$REPO_ROOT/deploy/local/kafka/pom.xml" \
        dependency:copy-dependencies -DoutputDirectory="$ctx/jars" >&2 || die "Maven could not copy the Kafka jars"
      ;;
    postgres)
      cp "$SCRIPT_DIR/postgres/entrypoint.sh" "$ctx/"
      ;;
    *)
      platform_wheel
      log "$image: building wheels for smartpick-$image and its dependencies"
      # The platform wheel is named explicitly so pip takes it and never looks the name up on an index.
      "$(python_for_wheels)" -m pip wheel -q -w "$ctx/wheels" "$PLATFORM_WHEEL" "$REPO_ROOT/services/$image" >&2
      if serves_web_app "$image"; then
        log "$image: building the web app (make web) for web/"
        make -s -C "$REPO_ROOT" web >&2 || die "make web failed: the $image image would serve no pages"
        [[ -f $REPO_ROOT/web/dist/index.html ]] || die "make web left no web/dist/index.html"
        cp -a "$REPO_ROOT/web/dist" "$ctx/web"
        rm -rf "$ctx/web/.built" "$ctx/web/.vite" # the build's own bookkeeping, not served
      fi
      ;;
  esac
}

build() {
  local image=$1 want have ctx started=$SECONDS args
  want=$(inputs_hash "$image")
  have=$(built_hash "$image")
  if [[ $want == "$have" ]]; then
    log "$PREFIX$image:$TAG is up to date"
    return 0
  fi
  ctx=$WORK/context/$image
  prepare_context "$image" "$ctx"
  log "$image: docker build (log: $WORK/$image-build.log)"
  mapfile -t args < <(build_args "$image")
  [[ -z $(target "$image") ]] || args+=("--target=$(target "$image")")
  docker build --network host --force-rm -f "$(dockerfile "$image")" \
    "${args[@]}" --label "$LABEL=$want" -t "$PREFIX$image:$TAG" "$ctx" \
    >"$WORK/$image-build.log" 2>&1 || {
    tail -n 30 "$WORK/$image-build.log" >&2
    die "docker build of $image failed"
  }
  rm -rf "$ctx"
  log "$PREFIX$image:$TAG built in $((SECONDS - started))s ($(docker image inspect -f '{{.Size}}' "$PREFIX$image:$TAG" | numfmt --to=iec))"
}

main() {
  local images=() image
  case ${1:-all} in
    all) images=("${INFRA[@]}" "${SERVICES[@]}") ;;
    infra) images=("${INFRA[@]}") ;;
    services) images=("${SERVICES[@]}") ;;
    -h | --help)
      sed -n '2,4p' "$0" >&2
      exit 2
      ;;
    *) images=("$@") ;;
  esac
  for image in "${images[@]}"; do
    is_service "$image" || [[ " ${INFRA[*]} " == *" $image "* ]] || die "unknown image '$image'"
  done
  docker version >/dev/null 2>&1 || die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}); start one with deploy/docker/dockerd.sh"
  if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    if [[ $BASE_IMAGE == smartpick/* ]]; then "$SCRIPT_DIR/bootstrap-base.sh"; else docker pull "$BASE_IMAGE"; fi
  fi
  mkdir -p "$WORK"
  for image in "${images[@]}"; do build "$image"; done
  # Images replaced by a rebuild keep nothing useful.
  docker image prune -f --filter "label=$LABEL" >/dev/null
}

main "$@"
