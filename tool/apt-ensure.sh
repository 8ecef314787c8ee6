#!/usr/bin/env bash
# apt-ensure.sh PACKAGE... -- installs the Debian packages that are missing.
#
# Idempotent and quiet when all are present: `apt-get update` runs only when
# something is missing.  Uses sudo when not root.  Shared by tool/setup.sh and
# bench/setup.sh.  TLSFIT_SETUP_VERBOSE=1 also says when all are present.
set -euo pipefail

say() { printf 'tlsfit setup: %s\n' "$*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $*"; return 1; fi
}

missing=()
for p in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  say "installing from Debian: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif [[ "${TLSFIT_SETUP_VERBOSE:-0}" == 1 ]]; then
  say "all Debian packages present: $*"
fi
