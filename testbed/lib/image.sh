# testbed/lib/image.sh: the Asterisk images (packaged 22.10.1, or a release built from
# source), the headers copied out of them, and each image's rest-api/events.json.
# Sourced by scripts/testbed, which sets the variables used here (VERSION, IMAGE, CONTAINER,
# ASB_CACHE, ...).
# shellcheck shell=bash

# ---------------------------------------------------------------- image

# with_image_lock IMAGE CMD...: CMD while holding IMAGE's lock. One maker of an image at a time,
# whoever asks (scripts/test builds the matrix's images in the background while the matrix may
# reach the same release): a second one waits, and CMD (which looks again first) then finds the
# image made. The lock is the engine's, not a test bed's: images are shared.
with_image_lock() {
    local image=$1 lock; shift
    exec {lock}>"${TMPDIR:-/tmp}/asb-image-${image//[^A-Za-z0-9._-]/_}.lock"
    if ! flock -n "$lock"; then
        log "another build of $image is under way: waiting for it"
        flock "$lock"
    fi
    "$@"
    exec {lock}>&-
}

ensure_base_image() {
    image_exists "$BASE_IMAGE" || with_image_lock "$BASE_IMAGE" make_base_image
}

make_base_image() {
    image_exists "$BASE_IMAGE" && return 0
    log "base image $BASE_IMAGE is missing: trying to pull it"
    if timeout 60 "$ENGINE" pull "$BASE_IMAGE" >"$ASB_CACHE/logs/pull.log" 2>&1; then
        return 0
    fi
    log "pull failed ($(tail -n 1 "$ASB_CACHE/logs/pull.log" | cut -c1-160))"
    log "building $BASE_IMAGE with debootstrap from $MIRROR instead (about a minute)"
    is_root || die "debootstrap needs root: run 'sudo scripts/testbed image' once"
    apt_ensure debootstrap
    local rootfs=$ASB_CACHE/$BASE_SUITE-root
    remove_rootfs "$rootfs"
    run_step debootstrap debootstrap --variant=minbase "$BASE_SUITE" "$rootfs" "$MIRROR"
    # Import the tree as the image that `FROM debian:$BASE_SUITE` resolves to.
    # shellcheck disable=SC2016  # $1.. expand in the inner shell
    run_step import bash -c 'set -o pipefail; tar -C "$1" -c . | "$2" import - "$3"' \
        _ "$rootfs" "$ENGINE" "$BASE_IMAGE"
    remove_rootfs "$rootfs"
    image_exists "$BASE_IMAGE" || die "import of $BASE_IMAGE did not produce the image"
}

# remove_rootfs DIR: delete a debootstrap tree safely. An interrupted debootstrap can leave /proc,
# /sys or a bind mount of the host's /dev mounted inside it: unmount whatever is mounted below DIR
# first, and never let rm cross into another file system.
remove_rootfs() {
    local dir=$1 mp
    [ -e "$dir" ] || return 0
    while read -r mp; do
        umount -l "$mp" 2>/dev/null || true
    done < <(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    rm -rf --one-file-system "$dir"
}

# The image's label: the Dockerfile's sha256 (the default version: as it always was), or for a
# source build the sha256 of the Dockerfile and the version together.
dockerfile_sum() {
    if [ "$VERSION" = "$DEFAULT_VERSION" ]; then
        sha256sum "$DOCKERFILE" | cut -d' ' -f1
    else
        { cat "$DOCKERFILE"; echo "version=$VERSION"; } | sha256sum | cut -d' ' -f1
    fi
}

# ---------------------------------------------------------------- release sources

# find_source: print the path of asterisk-VERSION's release tarball, downloading it when no local
# copy exists. Looked for, in order: the directory ASB_ASTERISK_SOURCES, the project's shared
# directory beside the clone (../shared/asterisk, as CI lays it out), a previous download in
# $ASB_CACHE/sources; else Asterisk's download site.
find_source() {
    local name=asterisk-$VERSION dir ext
    for dir in ${ASB_ASTERISK_SOURCES:+"$ASB_ASTERISK_SOURCES"} "$ROOT_DIR/../shared/asterisk" "$ASB_CACHE/sources"; do
        for ext in tar.xz tar.gz; do
            if [ -f "$dir/$name.$ext" ]; then
                echo "$dir/$name.$ext"
                return 0
            fi
        done
    done
    download_source
}

# download_source: fetch asterisk-VERSION.tar.gz from Asterisk's download site into
# $ASB_CACHE/sources, check it against the site's .sha256 when the site has one, and print its path.
# Nothing is kept unless complete and checked (a .part file is renamed at the end).
download_source() {
    local name=asterisk-$VERSION.tar.gz dest=$ASB_CACHE/sources
    local url=$DOWNLOAD_URL/$name part=$dest/$name.part
    command -v curl >/dev/null 2>&1 || apt_ensure curl
    mkdir -p "$dest"
    log "no local source of Asterisk $VERSION: downloading $url"
    if ! curl -fsSL --retry 3 --connect-timeout 20 -o "$part" "$url" 2>"$ASB_CACHE/logs/download.log"; then
        rm -f "$part"
        die "cannot download $url ($(tail -n 1 "$ASB_CACHE/logs/download.log")); put asterisk-$VERSION.tar.gz (or .tar.xz) in a directory and set ASB_ASTERISK_SOURCES to it"
    fi
    # The site publishes "SUM  asterisk-VERSION.tar.gz" beside each release.
    local sums expected actual
    if sums=$(curl -fsSL --retry 3 --connect-timeout 20 "$DOWNLOAD_URL/asterisk-$VERSION.sha256" 2>/dev/null); then
        expected=$(awk -v f="$name" '$2 == f || $2 == "*" f { print $1 }' <<<"$sums" | head -n 1)
        actual=$(sha256sum "$part" | cut -d' ' -f1)
        if [ -z "$expected" ]; then
            log "warning: asterisk-$VERSION.sha256 does not list $name: not checked"
        elif [ "$expected" != "$actual" ]; then
            rm -f "$part"
            die "$url: sha256 $actual, but the site's asterisk-$VERSION.sha256 says $expected"
        fi
    else
        log "warning: no asterisk-$VERSION.sha256 on the site: the download is not checked"
    fi
    tar -tzf "$part" >/dev/null 2>&1 || { rm -f "$part"; die "$url is not a gzip tar archive"; }
    mv "$part" "$dest/$name"
    echo "$dest/$name"
}

image_label() {
    E image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true
}

ensure_image() {
    engine
    cache_dirs
    [ "$(image_label)" = "$(dockerfile_sum)" ] || with_image_lock "$IMAGE" build_image
}

build_image() {
    local sum; sum=$(dockerfile_sum)
    [ "$(image_label)" = "$sum" ] && return 0
    ensure_base_image
    local context=$TESTBED_DIR
    if [ "$VERSION" != "$DEFAULT_VERSION" ]; then
        # The build context of a source build: just the release tarball.
        local src; src=$(find_source)
        context=$ASB_CACHE/build-context/$VERSION
        rm -rf "$context"; mkdir -p "$context"
        cp "$src" "$context/asterisk-src.tar"
        log "building $IMAGE from $(basename "$src") with testbed/$(basename "$DOCKERFILE") (a few minutes, log in $ASB_CACHE/logs/build-$VERSION.log)"
    else
        log "building $IMAGE from testbed/Dockerfile (about a minute, log in $ASB_CACHE/logs/build-$VERSION.log)"
    fi
    # ASB_BUILD_CPU_SHARES: the build containers' CPU weight (scripts/test builds images in the
    # background at weight 2, so that they take only the CPU the running tests leave).
    run_step "build-$VERSION" "$ENGINE" build --network host --label "$LABEL=$sum" \
        ${ASB_BUILD_CPU_SHARES:+--cpu-shares "$ASB_BUILD_CPU_SHARES"} \
        -t "$IMAGE" -f "$DOCKERFILE" "$context"
    [ "$VERSION" = "$DEFAULT_VERSION" ] || rm -rf "$context"
    [ "$(image_label)" = "$sum" ] || die "build finished but $IMAGE does not carry the expected label"
    log "built $IMAGE"
}

cmd_image() {
    ensure_image
    log "image $IMAGE is ready (engine: $ENGINE)"
}

# ---------------------------------------------------------------- headers

cmd_headers() {
    ensure_image
    local inc=$HEADERS_DIR stamp=$HEADERS_DIR.stamp id
    id=$(E image inspect --format '{{.Id}}' "$IMAGE")
    if [ -f "$inc/asterisk.h" ] && [ -d "$inc/asterisk" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$id" ]; then
        echo "$inc"
        return 0
    fi
    log "copying the Asterisk headers out of $IMAGE"
    local tmp=$HEADERS_DIR.tmp cid
    rm -rf "$tmp"; mkdir -p "$tmp"
    cid=$(E create "$IMAGE" true 2>"$ASB_CACHE/logs/headers.log") \
        || { tail -n 20 "$ASB_CACHE/logs/headers.log" >&2; die "cannot create a container from $IMAGE"; }
    local ok=1
    E cp "$cid:/usr/include/asterisk.h" "$tmp/asterisk.h" >>"$ASB_CACHE/logs/headers.log" 2>&1 || ok=0
    [ $ok = 1 ] && { E cp "$cid:/usr/include/asterisk" "$tmp/asterisk" >>"$ASB_CACHE/logs/headers.log" 2>&1 || ok=0; }
    E rm -f "$cid" >/dev/null 2>&1 || true
    if [ $ok = 0 ] || [ ! -f "$tmp/asterisk.h" ] || [ ! -f "$tmp/asterisk/buildopts.h" ]; then
        tail -n 20 "$ASB_CACHE/logs/headers.log" >&2
        die "copying the headers out of $IMAGE failed"
    fi
    rm -rf "$inc"; mv "$tmp" "$inc"
    echo "$id" >"$stamp"
    echo "$inc"
}

# ---------------------------------------------------------------- rest-api/events.json

# image_events_json: print the path of a copy of the image's own rest-api/events.json (what res_ari
# serves as /ari/api-docs/events.json), copied out once per image.
image_events_json() {
    local dir=$ASB_CACHE/rest-api/$VERSION id
    id=$(E image inspect --format '{{.Id}}' "$IMAGE")
    if [ -f "$dir/events.json" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$id" ]; then
        echo "$dir/events.json"
        return 0
    fi
    local cid
    rm -rf "$dir"; mkdir -p "$dir"
    cid=$(E create "$IMAGE" true 2>"$ASB_CACHE/logs/events-json.log") \
        || die "cannot create a container from $IMAGE"
    if ! E cp "$cid:$DATADIR/rest-api/events.json" "$dir/events.json" >>"$ASB_CACHE/logs/events-json.log" 2>&1; then
        E rm -f "$cid" >/dev/null 2>&1 || true
        die "$IMAGE has no $DATADIR/rest-api/events.json"
    fi
    E rm -f "$cid" >/dev/null 2>&1 || true
    echo "$id" >"$dir/stamp"
    echo "$dir/events.json"
}

# events_json_mount RUN_DIR: on an Asterisk whose events.json lacks the claim operation (before
# 20.20 / 22.10 / 23.4), make RUN_DIR/events.json as an operator's scripts/install leaves it
# (scripts/events-json adds the claim operation and the CallBroadcast / CallClaimed events), and
# print the volume option that serves it; nothing elsewhere. The image itself stays as the release
# installs it, so that tests/install.rs sees a release without them.
events_json_mount() {
    local run=$1 src
    [ -x "$ROOT_DIR/scripts/events-json" ] || die "$ROOT_DIR/scripts/events-json is missing"
    # (Inside a command substitution set -e is off: a failure here must end the script itself.)
    src=$(image_events_json) || exit 1
    grep -q '"/events/claim"' "$src" && return 0
    rm -f "$run/events.json" "$run/events.json.asb-orig"
    cp "$src" "$run/events.json"
    "$ROOT_DIR/scripts/events-json" add "$run/events.json" >"$ASB_CACHE/logs/events-json.log" 2>&1 \
        || { cat "$ASB_CACHE/logs/events-json.log" >&2; die "scripts/events-json could not patch $IMAGE's events.json"; }
    echo "$run/events.json:$DATADIR/rest-api/events.json:ro"
}
