#!/usr/bin/env bash
# Installs the third-party TLS scanners the probe benchmark compares against,
# from Debian's packages.  Idempotent and quiet when everything is present:
# apt-get update only runs when a package is missing.
#
# Environment:
#   TLSFIT_SETUP_VERBOSE=1  say what is already present too
set -euo pipefail

packages=(
  sslscan      # the scanners compared against
  testssl.sh
  nmap         # ssl-enum-ciphers NSE script
  openssl      # throwaway PKI + reference servers
  gnutls-bin   # gnutls-serv
  python3      # the bench driver (Debian's, stdlib only)
)

bash "$(dirname "${BASH_SOURCE[0]}")/../tool/apt-ensure.sh" "${packages[@]}"
