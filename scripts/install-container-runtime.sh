#!/usr/bin/env bash
# Installs the container runtime that `make images` and the real-node e2e tier need, from Debian's
# packages: docker.io (dockerd builds the images), containerd and runc (the real node's runtime),
# containernetworking-plugins (bridge, host-local, loopback for pod networking), mmdebstrap (a Python
# base image made from Debian packages where no container registry is reachable). Then starts dockerd
# when no daemon answers. Idempotent: present packages and a running daemon are kept.
set -euo pipefail
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v iptables >/dev/null || need+=(iptables)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # Keep the packages from starting system-wide services: dockerd is started below, containerd by the
  # testbed with its own configuration.
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  $SUDO rm -f /usr/sbin/policy-rc.d
fi
# docker.io's own CLI may sit beside another one on PATH; both speak to the same socket.
if ! docker info >/dev/null 2>&1; then
  log=${ONLINE_CONNECTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/online-connector}/dockerd.log
  mkdir -p "$(dirname "$log")"
  echo "starting dockerd (log: $log)"
  $SUDO sh -c "nohup setsid dockerd >'$log' 2>&1 </dev/null &"
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see $log" >&2; tail -20 "$log" >&2; exit 1; }
fi
echo "container runtime ready: $(docker version --format 'docker {{.Server.Version}}') containerd $(containerd --version | awk '{print $3}') runc $(runc --version | head -1 | awk '{print $3}')"
