#!/usr/bin/env bash
# Rebuilds every shipped reference profile (profiles/*.json) from real Debian server
# software on 127.0.0.1: see profiles/make/refprofiles.py --list.
set -euo pipefail
exec /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/refprofiles.py" --all "$@"
