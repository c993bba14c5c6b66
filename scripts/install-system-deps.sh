#!/usr/bin/env bash
# Installs the Debian packages that the tests and the demo need: PostgreSQL and MariaDB servers
# (started later by the project's own fixtures on free ports with throwaway data folders), Lua (the
# Argo CD health check test), util-linux (unshare for the process kubelet) and openssl.
set -euo pipefail
need=()
command -v unshare >/dev/null || need+=(util-linux)
command -v openssl >/dev/null || need+=(openssl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v mariadbd >/dev/null || command -v mysqld >/dev/null || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v lua5.4 >/dev/null || need+=(lua5.4)
if [ ${#need[@]} -eq 0 ]; then echo "system packages: all present"; exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Do not let the packages start their own system-wide servers: the tests start private ones.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
$SUDO chmod +x /usr/sbin/policy-rc.d
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
$SUDO rm -f /usr/sbin/policy-rc.d
echo "system packages installed"
