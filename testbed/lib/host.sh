# testbed/lib/host.sh: logging, the host's packages (apt) and the container engine.
# Sourced by scripts/testbed, which sets the variables used here (VERSION, IMAGE, CONTAINER,
# ASB_CACHE, ...).
# shellcheck shell=bash

log() { printf 'testbed: %s\n' "$*" >&2; }
die() { printf 'testbed: error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

cache_dirs() {
    mkdir -p "$ASB_CACHE" "$ASB_CACHE/logs" 2>/dev/null \
        || die "cannot create $ASB_CACHE (run as root, or set ASB_CACHE to a writable directory)"
}

# run_step NAME CMD...: run CMD with all its output in $ASB_CACHE/logs/NAME.log; on failure show the
# log's tail and exit.
run_step() {
    local name=$1; shift
    local logf=$ASB_CACHE/logs/$name.log
    if ! "$@" >"$logf" 2>&1; then
        printf 'testbed: error: step "%s" failed: %s\n' "$name" "$*" >&2
        printf 'testbed: last lines of %s:\n' "$logf" >&2
        tail -n 40 "$logf" | sed 's/^/    /' >&2
        exit 1
    fi
}

pkg_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = 'install ok installed' ]
}

# apt_ensure PKG...: apt-get install whichever of PKG are missing (root only).
apt_ensure() {
    local missing=() p
    command -v dpkg-query >/dev/null 2>&1 || die "no dpkg here: install $* yourself"
    for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    is_root || die "missing packages: ${missing[*]}; run 'sudo scripts/testbed deps' (or apt-get install -y ${missing[*]})"
    cache_dirs
    log "installing ${missing[*]} (apt-get, log in $ASB_CACHE/logs/apt.log)"
    export DEBIAN_FRONTEND=noninteractive
    # Wait for the dpkg lock rather than fail when another apt (a developer's, unattended-upgrades)
    # holds it.
    local lock=(-o DPkg::Lock::Timeout=300)
    run_step apt-update apt-get "${lock[@]}" update
    # With recommends, as verified (podman's bring netavark, the CNI plugins, catatonit, ...).
    run_step apt apt-get "${lock[@]}" install -y -q "${missing[@]}"
}

# ---------------------------------------------------------------- engine

ENGINE=
engine() {
    [ -n "$ENGINE" ] && return 0
    if [ -n "${ASB_ENGINE:-}" ]; then
        ENGINE=$ASB_ENGINE
        command -v "$ENGINE" >/dev/null 2>&1 || die "ASB_ENGINE=$ENGINE: no such command"
    elif command -v podman >/dev/null 2>&1; then
        ENGINE=podman
    elif command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; then
        ENGINE=docker
    elif is_root; then
        log "no container engine: installing podman"
        apt_ensure podman runc
        ENGINE=podman
    else
        die "no container engine: install podman (sudo scripts/testbed deps) or start a Docker daemon, or set ASB_ENGINE"
    fi
    if [ "$(basename "$ENGINE")" = podman ]; then
        # runtime = "runc" in containers.conf: make sure it is there.
        if ! command -v runc >/dev/null 2>&1 && [ ! -x /usr/sbin/runc ] && [ ! -x /usr/bin/runc ]; then
            is_root || die "podman needs runc here (see testbed/containers.conf): sudo scripts/testbed deps"
            apt_ensure runc
        fi
        if [ -z "${CONTAINERS_CONF:-}" ]; then
            export CONTAINERS_CONF=$TESTBED_DIR/containers.conf
        fi
    fi
}

E() { "$ENGINE" "$@"; }

image_exists() { E image inspect "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- deps

cmd_deps() {
    apt_ensure "${DEPS_TESTBED[@]}" "${DEPS_BUILD[@]}"
}

# ---------------------------------------------------------------- build

# The module for VERSION, built into the directory `start` mounts by default. A new target
# directory is seeded from the default one: the dependencies do not depend on Asterisk's headers,
# so cargo reuses them and compiles this crate only.
cmd_build() {
    local module dir seed inc
    module=$(realpath -m "$(default_module)")
    dir=$(dirname "$(dirname "$module")")
    seed=$ROOT_DIR/target/release
    if [ ! -d "$dir/release" ] && [ -d "$seed" ] && [ "$(realpath -m "$dir/release")" != "$(realpath "$seed")" ]; then
        mkdir -p "$dir"
        cp -a "$seed" "$dir/"
    fi
    inc=$(cmd_headers)
    (cd "$ROOT_DIR" && CARGO_TARGET_DIR=$dir ASTERISK_INCLUDE_DIR=$inc cargo build --release >&2)
    echo "$module"
}
