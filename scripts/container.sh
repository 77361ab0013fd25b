#!/usr/bin/env bash
# Build and check the application image (deploy/Containerfile) with podman.
#   scripts/container.sh build   prepare build/container/ and build localhost/shareplatform:latest
#   scripts/container.sh check   build, then run it read-only as CI does (see `check` below)
# BASE picks the base image (default docker.io/library/debian:bookworm-slim). With BASE=local
# the base is made here with debootstrap from Debian's mirror, for machines that reach no
# container registry (the CI machines: .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=localhost/shareplatform:latest
BASE=${BASE:-docker.io/library/debian:bookworm-slim}
WORK=build/container
# Runtime limits podman may set inside a sandbox that forbids raising them (crun fails otherwise)
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
PODMAN=(podman)
command -v runc >/dev/null 2>&1 && PODMAN+=(--runtime runc)

local_base() {
    if podman image exists localhost/debian-base:bookworm; then return; fi
    rm -rf "$WORK/rootfs"
    debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log"
    tar -C "$WORK/rootfs" -c . | podman import - localhost/debian-base:bookworm >/dev/null
    rm -rf "$WORK/rootfs"
}

build() {
    mkdir -p "$WORK"
    [ "$BASE" = local ] && { local_base; BASE=localhost/debian-base:bookworm; }
    # The wheels of the runtime lock, hash-checked on download; the image installs only these.
    rm -rf "$WORK/wheels"
    python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
        -r requirements-runtime.lock -d "$WORK/wheels"
    "${PODMAN[@]}" build --quiet --network host "${LIMITS[@]}" --build-arg "BASE=$BASE" \
        -f deploy/Containerfile -t "$IMAGE" . >/dev/null
    echo "container: built $IMAGE ($(podman image inspect "$IMAGE" --format '{{.Size}}') bytes)"
}

# Run the image as an operator would: read-only root, tmpfs /tmp, no capabilities.
run() {
    "${PODMAN[@]}" run --rm --read-only --tmpfs /tmp --cap-drop ALL --network host "${LIMITS[@]}" "$@"
}

check() {
    build
    # 1. as built it is a production image: with no PostgreSQL or HSM configured it refuses to start
    out=$(run "$IMAGE" 2>&1) && { echo "container: started without production settings" >&2; exit 1; }
    grep -q "will not start" <<<"$out" || { echo "container: unexpected refusal: $out" >&2; exit 1; }
    # 2. not root, no compiler, no pip; the root filesystem is read-only
    run "$IMAGE" sh -c '[ "$(id -u)" != 0 ] && ! command -v gcc && ! command -v cc && ! [ -e /opt/shareplatform/bin/pip ] && ! touch /app/x 2>/dev/null' \
        || { echo "container: root user, build tools or writable root" >&2; exit 1; }
    # 3. serves: migrations, then gunicorn on a free loopback port; /healthz and /readyz answer 200
    data=$(mktemp -d); chmod 777 "$data"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    env=(-e SHAREPLATFORM_PRODUCTION=0 -e DATABASE_URL=sqlite:////data/shareplatform.db
         -e SHAREPLATFORM_KEYS_DIR=/data/keys -v "$data:/data")
    run "${env[@]}" "$IMAGE" flask --app wsgi db upgrade >/dev/null
    name=shareplatform-check-$$
    run -d --name "$name" "${env[@]}" "$IMAGE" gunicorn --workers 2 --bind "127.0.0.1:$port" wsgi:app >/dev/null
    trap 'podman rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$data"' EXIT
    for _ in $(seq 60); do
        curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
        sleep 1
    done
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null \
        || { podman logs "$name" | tail -20 >&2; echo "container: not ready" >&2; exit 1; }
    echo "container: ran $IMAGE read-only as uid 10001; /healthz and /readyz answered 200"
}

# CI: the check where podman can run containers on this machine; said plainly where it cannot.
ci() {
    if ! command -v podman >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1 \
            || ! command -v runc >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            podman runc debootstrap >/dev/null 2>&1 \
            || { echo "container: podman could not be installed; image not built"; return 0; }
        PODMAN=(podman --runtime runc)
    fi
    mkdir -p "$WORK"
    local_base || { echo "container: no base image (debootstrap failed); image not built"; return 0; }
    if ! probe=$("${PODMAN[@]}" run --rm "${LIMITS[@]}" --network none \
            localhost/debian-base:bookworm true 2>&1); then
        echo "container: this machine cannot run containers ($probe); image not built"
        return 0
    fi
    BASE=localhost/debian-base:bookworm check
}

case "${1:-}" in
    build) build ;;
    check) check ;;
    ci) ci ;;
    *) echo "usage: $0 build|check|ci" >&2; exit 2 ;;
esac
