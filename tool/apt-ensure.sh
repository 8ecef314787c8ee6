#!/usr/bin/env bash
# apt-ensure.sh PACKAGE... -- installs the Debian packages that are missing.
#
# Idempotent and quiet when all are present: `apt-get update` runs only when
# something is missing.  Uses sudo when not root.  Shared by tool/setup.sh and
# bench/setup.sh.  TLSFIT_SETUP_VERBOSE=1 also says when all are present.
#
# Daemons are never started: some packages (mosquitto, nginx-light) have
# postinst scripts that start a system service on its default port.  While
# apt-get runs, a temporary /usr/sbin/policy-rc.d answers 101 ("action
# forbidden"), which invoke-rc.d and deb-systemd-invoke obey; it is removed
# afterwards.  An existing policy-rc.d (e.g. a container's) is left alone.
# The tests start their own instances on 127.0.0.1 (tlsfit.lab.refservers).
set -euo pipefail

say() { printf 'tlsfit setup: %s\n' "$*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $*"; return 1; fi
}

POLICY=/usr/sbin/policy-rc.d
policy_added=0
remove_policy() {
  if ((policy_added)); then as_root rm -f "$POLICY" || say "could not remove $POLICY; remove it by hand"; fi
}

missing=()
for p in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  say "installing from Debian: ${missing[*]}"
  if [[ ! -e "$POLICY" ]]; then
    trap remove_policy EXIT
    printf '#!/bin/sh\n# tlsfit apt-ensure.sh: no service starts while it installs\nexit 101\n' |
      as_root tee "$POLICY" >/dev/null
    as_root chmod 755 "$POLICY"
    policy_added=1
  fi
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif [[ "${TLSFIT_SETUP_VERBOSE:-0}" == 1 ]]; then
  say "all Debian packages present: $*"
fi
