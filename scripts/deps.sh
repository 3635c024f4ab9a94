#!/bin/bash
# Install what Tamis needs to build and test on Debian 12 (bookworm).
#
#   sudo scripts/deps.sh
#
# Idempotent: when every package is already installed it changes nothing and
# does not touch the network.  It runs `apt-get update` only when something
# must be installed and the package lists are missing or older than a day (or
# when an install fails on stale lists).
#
# dovecot-core comes in only for its sieve-test oracle: this script makes sure
# the system-wide Dovecot it brings is not running and does not start at boot
# (set TAMIS_KEEP_SYSTEM_DOVECOT=1 to leave it alone).  The private instances
# of ../shared/anchors/dovecot use their own base_dir and are never touched.
set -euo pipefail

# The one list.  "name   # why" per line.
PACKAGES_SPEC='
build-essential       # gcc, make, libc headers: the default compiler and the build
clang                 # second compiler kept warning-clean in CI; ASan/UBSan and libFuzzer builds
flex                  # generates the Sieve lexer (grammar/sieve.l)
bison                 # generates the Sieve parser (grammar/sieve.y)
pkg-config            # locates library flags for the server builds
libcmocka-dev         # C unit test framework (tests/unit, build/tests/test_*)
libuv1-dev            # event loop for the LMTP, ManageSieve and IMAPSIEVE servers (planned)
libssl-dev            # OpenSSL: TLS for the servers (planned)
libcurl4-openssl-dev  # HTTP client for rspamd spam/ham training (planned)
libsqlite3-dev        # embedded store: duplicate/vacation tracking, queues, metadata (planned)
python3               # runs the pytest suite and ../shared/conformance/score
python3-pytest        # CLI and server tests (tests/py); use /usr/bin/python3, not pyenv
dovecot-core          # required by dovecot-sieve; its daemon is kept stopped (see above)
dovecot-sieve         # sieve-test: differential oracle for the Sieve language, tests only
swaks                 # SMTP/LMTP client for end-to-end delivery tests
'
mapfile -t PACKAGES < <(printf '%s\n' "$PACKAGES_SPEC" | sed -e 's/#.*//' | awk 'NF { print $1 }')

log() { printf '[deps] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo -E bash "$0" "$@"
    fi
    echo "[deps] must run as root (or with sudo available)" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    echo "[deps] apt-get/dpkg not found: this script targets Debian 12" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

missing_packages() {
    local p
    for p in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed; then
            printf '%s\n' "$p"
        fi
    done
}

# True when the package lists are absent or older than a day.
lists_stale() {
    local newest
    newest=$(find /var/lib/apt/lists -maxdepth 1 -type f \( -name '*_InRelease' -o -name '*_Release' \) \
        -mmin -1440 2>/dev/null | head -n 1)
    [ -z "$newest" ]
}

apt_install() {
    apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null
}

mapfile -t missing < <(missing_packages)
if [ ${#missing[@]} -eq 0 ]; then
    log "all ${#PACKAGES[@]} packages already installed"
else
    log "missing: ${missing[*]}"
    updated=no
    if lists_stale; then
        log "apt-get update (package lists missing or older than a day)"
        apt-get update -q </dev/null
        updated=yes
    fi
    if ! apt_install "${missing[@]}"; then
        [ "$updated" = yes ] && exit 1
        log "install failed; retrying after apt-get update"
        apt-get update -q </dev/null
        apt_install "${missing[@]}"
    fi
    mapfile -t still < <(missing_packages)
    if [ ${#still[@]} -ne 0 ]; then
        echo "[deps] still missing after install: ${still[*]}" >&2
        exit 1
    fi
    log "installed: ${missing[*]}"
fi

# Keep the system-wide Dovecot out of the way: it would listen on the standard
# ports (143, 993, 110, 995, 4190, ...).  Only the default instance (base_dir
# /run/dovecot, config /etc/dovecot/dovecot.conf) is stopped.
if [ "${TAMIS_KEEP_SYSTEM_DOVECOT:-0}" != 1 ]; then
    if [ -e /etc/init.d/dovecot ] || [ -e /lib/systemd/system/dovecot.service ]; then
        if [ -d /run/systemd/system ]; then
            if systemctl is-enabled --quiet dovecot.service 2>/dev/null \
               || systemctl is-enabled --quiet dovecot.socket 2>/dev/null \
               || systemctl is-active --quiet dovecot.service 2>/dev/null \
               || systemctl is-active --quiet dovecot.socket 2>/dev/null; then
                log "stopping and disabling the system dovecot (systemd)"
                systemctl disable --now dovecot.socket dovecot.service >/dev/null 2>&1 || true
            fi
        else
            pidfile=/run/dovecot/master.pid
            if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
                log "stopping the system dovecot (pid $(cat "$pidfile"))"
                pid=$(cat "$pidfile")
                doveadm -c /etc/dovecot/dovecot.conf stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
                for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
                if kill -0 "$pid" 2>/dev/null; then
                    echo "[deps] warning: system dovecot (pid $pid) is still running" >&2
                fi
            fi
            if ls /etc/rc[2-5].d/S*dovecot >/dev/null 2>&1; then
                log "disabling the system dovecot at boot (update-rc.d)"
                update-rc.d dovecot disable >/dev/null 2>&1 || true
            fi
        fi
    fi
fi

log "ok"
