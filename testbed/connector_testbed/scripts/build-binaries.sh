#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager (and optionally helm) from the Go
# modules that the Go module proxy serves, into OUT. Idempotent: a binary that exists is kept.
# With OLC_NODE=1 it also builds a real node's kubelet, kube-proxy and kube-scheduler (same module
# set, so the API server's packages come from the build cache) and a static `pause` program for the
# sandbox image.
# Usage: build-binaries.sh OUT K8S_VERSION ETCD_VERSION [HELM_VERSION]
set -euo pipefail
OUT=$1; K=$2; E=$3; H=${4:-}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
START=$(date +%s)
say() { echo "[testbed-build +$(( $(date +%s) - START ))s] $*" >&2; }
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/olc-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

build_etcd() {
  [ -x "$OUT/etcd" ] && return 0
  say "etcd $E: resolving modules"
  mkdir -p "$WORK/etcd" && cd "$WORK/etcd"
  go mod init local.invalid/etcdbin >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$E" >/dev/null 2>&1
  say "etcd $E: compiling"
  go build -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$OUT/etcd.tmp" "$OUT/etcd"
  say "etcd $E: done"
}

NODE=${OLC_NODE:-0}

build_k8s() {
  local missing=0 b
  for b in kube-apiserver kube-controller-manager; do [ -x "$OUT/$b" ] || missing=1; done
  if [ "$NODE" = 1 ]; then for b in kubelet kube-proxy kube-scheduler; do [ -x "$OUT/$b" ] || missing=1; done; fi
  [ "$missing" = 0 ] && return 0
  local S="v0.${K#v1.}" MINOR
  MINOR=$(echo "$K" | cut -d. -f2)
  say "kubernetes $K: resolving modules (staging $S)"
  mkdir -p "$WORK/k8s" && cd "$WORK/k8s"
  go mod init local.invalid/k8sbins >/dev/null 2>&1
  local GOMOD
  GOMOD=$(go mod download -json "k8s.io/kubernetes@$K" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
  for m in $(sed -n 's|^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*|\1|p' "$GOMOD"); do
    go mod edit -replace="$m=$m@$S"
  done
  mkdir -p apiserver kcm
  cat > apiserver/main.go <<'GO'
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() { os.Exit(cli.Run(app.NewAPIServerCommand())) }
GO
  sed -e 's|cmd/kube-apiserver/app|cmd/kube-controller-manager/app|' \
      -e 's|NewAPIServerCommand|NewControllerManagerCommand|' apiserver/main.go > kcm/main.go
  if [ "$NODE" = 1 ]; then
    mkdir -p kubelet proxy scheduler
    sed -e 's|cmd/kube-apiserver/app|cmd/kube-scheduler/app|' \
        -e 's|NewAPIServerCommand|NewSchedulerCommand|' apiserver/main.go > scheduler/main.go
    sed -e 's|cmd/kube-apiserver/app|cmd/kube-proxy/app|' \
        -e 's|NewAPIServerCommand|NewProxyCommand|' apiserver/main.go > proxy/main.go
    sed -e 's|cmd/kube-apiserver/app|cmd/kubelet/app|' -e 's|"os"|"context"\n\t"os"|' \
        -e 's|app.NewAPIServerCommand()|app.NewKubeletCommand(context.Background())|' apiserver/main.go > kubelet/main.go
  fi
  go get "k8s.io/kubernetes@$K" >/dev/null 2>&1
  go mod tidy >/dev/null 2>&1
  local LD="-s -w -X k8s.io/component-base/version.gitVersion=$K -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$MINOR -X k8s.io/client-go/pkg/version.gitVersion=$K -X k8s.io/component-base/version.gitTreeState=clean"
  if [ ! -x "$OUT/kube-apiserver" ]; then
    say "kube-apiserver $K: compiling (several minutes on 2 cores)"
    go build -trimpath -ldflags "$LD" -o "$OUT/kube-apiserver.tmp" ./apiserver
    mv "$OUT/kube-apiserver.tmp" "$OUT/kube-apiserver"
    say "kube-apiserver $K: done"
  fi
  if [ ! -x "$OUT/kube-controller-manager" ]; then
    say "kube-controller-manager $K: compiling"
    go build -trimpath -ldflags "$LD" -o "$OUT/kube-controller-manager.tmp" ./kcm
    mv "$OUT/kube-controller-manager.tmp" "$OUT/kube-controller-manager"
    say "kube-controller-manager $K: done"
  fi
  if [ "$NODE" = 1 ]; then
    local dir name
    for name in kubelet kube-proxy kube-scheduler; do
      [ -x "$OUT/$name" ] && continue
      dir=$name; [ "$name" = kube-proxy ] && dir=proxy; [ "$name" = kube-scheduler ] && dir=scheduler
      say "$name $K: compiling"
      go build -trimpath -ldflags "$LD" -o "$OUT/$name.tmp" "./$dir"
      mv "$OUT/$name.tmp" "$OUT/$name"
      say "$name $K: done"
    done
  fi
}

# The sandbox ("pause") container's program: waits for SIGTERM, nothing else. Static, no libc.
build_pause() {
  [ "$NODE" = 1 ] || return 0
  [ -x "$OUT/pause" ] && return 0
  mkdir -p "$WORK/pause" && cd "$WORK/pause"
  go mod init local.invalid/pause >/dev/null 2>&1
  cat > main.go <<'GO'
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
}
GO
  go build -trimpath -ldflags "-s -w" -o "$OUT/pause.tmp" .
  mv "$OUT/pause.tmp" "$OUT/pause"
  say "pause: done"
}

build_helm() {
  [ -z "$H" ] && return 0
  [ -x "$OUT/helm" ] && return 0
  say "helm $H: resolving and compiling"
  mkdir -p "$WORK/helm" && cd "$WORK/helm"
  go mod init local.invalid/helmbin >/dev/null 2>&1
  go get "helm.sh/helm/v3/cmd/helm@$H" >/dev/null 2>&1
  go build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$H" -o "$OUT/helm.tmp" helm.sh/helm/v3/cmd/helm
  mv "$OUT/helm.tmp" "$OUT/helm"
  say "helm $H: done"
}

build_etcd
build_k8s
build_helm
build_pause
say "all binaries ready in $OUT"
