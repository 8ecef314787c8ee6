#!/usr/bin/env bash
# Installs the third-party TLS scanners the probe benchmark compares against,
# from Debian's packages.  Idempotent and quiet when everything is present:
# apt-get update only runs when a package is missing.
#
# Environment:
#   TLSFIT_SETUP_VERBOSE=1  say what is already present too
set -euo pipefail

say() { printf 'bench setup: %s\n' "$*" >&2; }
verbose() { [[ "${TLSFIT_SETUP_VERBOSE:-0}" == 1 ]] && say "$@"; return 0; }

packages=(
  sslscan      # the scanners compared against
  testssl.sh
  nmap         # ssl-enum-ciphers NSE script
  openssl      # throwaway PKI + reference servers
  gnutls-bin   # gnutls-serv
  python3      # the bench driver (Debian's, stdlib only)
)

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $*"; return 1; fi
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  say "installing from Debian: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  say "installed: ${missing[*]}"
else
  verbose "all Debian packages present"
fi
