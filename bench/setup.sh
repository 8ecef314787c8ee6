#!/usr/bin/env bash
# Installs the third-party TLS scanners the probe benchmark compares against and
# the real server software bench/real_servers.py runs, from Debian's packages
# (their services are kept from starting: tool/apt-ensure.sh).  Idempotent and quiet when everything is present:
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
  lighttpd lighttpd-mod-openssl lighttpd-mod-mbedtls   # bench/real_servers.py: lighttpd
  haproxy stunnel4 apache2 nginx-light mosquitto      # ... and the other real servers
)

bash "$(dirname "${BASH_SOURCE[0]}")/../tool/apt-ensure.sh" "${packages[@]}"
