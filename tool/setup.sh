#!/usr/bin/env bash
# tlsfit set-up: installs what the project needs from Debian's packages and
# fetches the mbedTLS LTS sources from Debian's source packages into a cache.
#
# Idempotent and quiet when everything is already present.  Never touches the
# system's apt configuration: the source lists live in a private directory that
# is passed to apt-get with -o options.
#
# Environment:
#   TLSFIT_CACHE   cache directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/tlsfit)
#   MBEDTLS_DIR    a user's own mbedTLS tree; when set, no source is fetched
#   TLSFIT_SETUP_VERBOSE=1  say what is already present too
set -euo pipefail

cache="${TLSFIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tlsfit}"
say() { printf 'tlsfit setup: %s\n' "$*" >&2; }
verbose() { [[ "${TLSFIT_SETUP_VERBOSE:-0}" == 1 ]] && say "$@"; return 0; }

# Package name -> why the project needs it.
packages=(
  cmake                    # builds the prober and the firmware harness
  make
  gcc                      # host C compiler (prober, host mbedTLS)
  libc6-dev
  gcc-arm-none-eabi        # cross compiler for Cortex-M targets
  libnewlib-arm-none-eabi  # C library + semihosting for the firmware
  qemu-system-arm          # runs the firmware on MPS2/MPS3 boards
  python3                  # the driver
  python3-jinja2           # config templates
  python3-pytest           # the test runner
  python3-pytest-xdist     # ./tlsfit test runs pytest on every core (-n, docs/testing.md)
  python3-hypothesis       # property tests: random mutations of real profiles (tests/test_properties.py)
  python3-jsonschema       # tests: docs/profile-schema.json and the validator agree (draft 2020-12)
  python3-kconfiglib       # tests/test_platform_eval.py: applies --for esp-idf/zephyr fragments over the platforms' real Kconfig
  openssl                  # reference server + test PKI
  libssl-dev               # tlsfit-replay (tool/replay): the replica server links OpenSSL
  gnutls-bin               # second reference server (gnutls-serv)
  ca-certificates          # system trust store for trust-anchor look-up
  dpkg-dev                 # apt-get source needs dpkg-source
  xz-utils
  bzip2
  ccache                   # cached rebuilds of the firmware harness and host builds
  clang-14                 # libFuzzer + ASan/UBSan for the fuzz targets (tests/fuzz/run.sh)
  libclang-rt-14-dev       # ... libFuzzer's and the sanitizers' runtime (only recommended by clang-14)
  mosquitto                # MQTT broker: the tests' proof that a server accepted the session
  nginx-light              # HTTP server: the tests' HTTP proof (openssl s_server -www ignores HEAD)
  lighttpd                 # real server software in the tests: lighttpd ...
  lighttpd-mod-mbedtls     # ... with mbedTLS 2.28 as its TLS library (an mbedTLS server)
  lighttpd-mod-wolfssl     # ... with wolfSSL: refuses hellos of over 150 suites (the version step retries smaller ones)
  haproxy                  # an AWS-IoT-shaped endpoint in the tests: drops a hello without ALPN x-amzn-mqtt-ca
  libcoap3-bin             # coap-server-openssl: a CoAP-over-DTLS server, the tests' CoAP proof peer (tests/test_dtls.py)
  chromium                 # headless browser: tests/test_dashboard.py loads the bench dashboard from disk
)

bash "$(dirname "${BASH_SOURCE[0]}")/apt-ensure.sh" "${packages[@]}"

# --- mbedTLS sources -------------------------------------------------------
# line -> Debian release that carries it
declare -A release=([3.6]=trixie [2.28]=bookworm)

# One fetch at a time per cache (two set-ups at once, e.g. two `./tlsfit test` runs
# sharing it: the private apt directory and the rename into place are shared); the
# second waits for the lock, then finds the tree present.
fetch_mbedtls() {
  if [[ -f "$cache/mbedtls-$1/.tlsfit-version" ]]; then
    verbose "mbedTLS $1 present: $(cat "$cache/mbedtls-$1/.tlsfit-version")"
    return 0
  fi
  ( flock 9 && fetch_mbedtls_unlocked "$1" ) 9>"$cache/.fetch.lock"
}

fetch_mbedtls_unlocked() {
  local line=$1 rel=${release[$1]} dest="$cache/mbedtls-$1"
  if [[ -f "$dest/.tlsfit-version" ]]; then
    verbose "mbedTLS $line present: $(cat "$dest/.tlsfit-version")"
    return 0
  fi
  local apt="$cache/apt" work
  mkdir -p "$apt/lists/partial" "$apt/archives"
  cat >"$apt/sources.list" <<LIST
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $rel main
LIST
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache::Archives=$apt/archives"
              -o APT::Sandbox::User=root)
  say "fetching mbedTLS $line source from Debian $rel (signature checked by apt)"
  apt-get -qq "${opts[@]}" update >/dev/null || { say "apt-get update of the private source list failed"; return 1; }
  work=$(mktemp -d "$cache/fetch.XXXXXX")
  (cd "$work" && apt-get -qq "${opts[@]}" source --download-only "mbedtls/$rel" >/dev/null 2>&1) || {
    rm -rf "$work"; say "could not download the mbedtls source package from $rel"; return 1; }
  local orig version
  orig=$(ls "$work"/mbedtls_*.orig.tar.* | head -n1)
  version=$(basename "$orig" | sed -E 's/^mbedtls_([0-9.]+)\.orig.*/\1/')
  case "$version" in "$line".*) ;; *)
    rm -rf "$work"; say "Debian $rel carries mbedtls $version, not $line.x"; return 1;; esac
  mkdir -p "$work/src"
  # Upstream sources only (the .orig tarball): Debian's packaging patches change
  # the default configuration, which must stay the library's own for baselines.
  tar -xf "$orig" -C "$work/src" || { rm -rf "$work"; say "could not unpack $orig"; return 1; }
  local top
  top=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d | head -n1)
  if [[ -z "$top" || ! -f "$top/include/mbedtls/ssl.h" ]]; then
    rm -rf "$work"; say "unexpected layout in $orig"; return 1
  fi
  echo "$version (Debian $rel, $(basename "$orig"))" >"$top/.tlsfit-version"
  rm -rf "$dest"; mv "$top" "$dest"
  rm -rf "$work"
  say "mbedTLS $version ready in $dest"
}

mkdir -p "$cache"
if [[ -n "${MBEDTLS_DIR:-}" ]]; then
  [[ -f "$MBEDTLS_DIR/include/mbedtls/ssl.h" ]] || { say "MBEDTLS_DIR=$MBEDTLS_DIR is not an mbedTLS tree"; exit 1; }
  verbose "using MBEDTLS_DIR=$MBEDTLS_DIR"
else
  fetch_mbedtls 3.6
fi
if [[ "${TLSFIT_WITH_2_28:-1}" == 1 ]]; then fetch_mbedtls 2.28 || say "warning: mbedTLS 2.28 not available"; fi
