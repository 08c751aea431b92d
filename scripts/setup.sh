#!/usr/bin/env bash
# Provision everything tke-catalog's demo and tests need, idempotently:
#   - the Python virtualenv (.venv) with the package and its test extras;
#   - the helm CLI, 3 ($BIN/helm) and 4 ($BIN/helm4), built from the Go module proxy with their version ldflags;
#   - Debian's docker-registry (CNCF distribution) and containerd 1.6 binaries, extracted, never run as services,
#     and containerd 2 ($BIN/containerd2) built from the Go module proxy;
#   - etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok for the local control plane, and
#     the oldest served kube-apiserver (1.29) for the version-matrix checks;
#   - CoreDNS (the coredns chart's appVersion), run by the DNS tests against the local API server.
# Binaries are cached outside the repository in $TKE_CATALOG_CACHE (default ~/.cache/tke-catalog);
# a warm machine skips every build in seconds. Each step prints what it did and how long it took.
#
# Usage: scripts/setup.sh [all|python|helm|helm3|helm4|registry|containerd|control-plane|kube-oldest|coredns]...   (default: all)
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
# the newest helm 4 the Go module proxy serves (`go list -m -versions helm.sh/helm/v4`), cached as $BIN/helm4
HELM4_VERSION="${HELM4_VERSION:-v4.3.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KUBE_VERSION="${KUBE_VERSION:-1.36.3}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
# the CoreDNS the coredns chart's current line ships (its appVersion): the DNS tests run it for real
COREDNS_VERSION="${COREDNS_VERSION:-v1.12.1}"
# containerd 2.x (config version 3, printing version 4 from 2.4) next to Debian's 1.6 (version 2): the
# containerd-config chart's renderings are loaded by both
CONTAINERD2_VERSION="${CONTAINERD2_VERSION:-v2.4.2}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${TKE_CATALOG_CACHE:-$HOME/.cache/tke-catalog}"
BIN="$CACHE/bin"
mkdir -p "$BIN" "$CACHE/build"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf '[setup] %s\n' "$*" >&2; }
step() {  # step NAME FUNCTION: run FUNCTION, report its duration
  local name="$1" start end
  start=$(date +%s)
  "$2"
  end=$(date +%s)
  log "$name: done in $((end - start))s"
}

apt_updated=0
apt_download() {  # apt_download PACKAGE DEST: extract a Debian package's files without installing it
  local pkg="$1" dest="$2" tmp
  tmp="$(mktemp -d)"
  if ! (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1); then
    if [ "$apt_updated" = 0 ]; then apt-get update -qq >/dev/null; apt_updated=1; fi
    (cd "$tmp" && apt-get download "$pkg" >/dev/null)
  fi
  dpkg -x "$tmp"/"$pkg"_*.deb "$dest"
  rm -rf "$tmp"
}

setup_python() {
  if [ ! -x "$ROOT/.venv/bin/python" ]; then
    log "creating $ROOT/.venv"
    python3 -m venv "$ROOT/.venv"
  fi
  # compat mode: a plain path in a .pth, not an import-hook finder (which costs every start ~20 ms)
  "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check --config-settings editable_mode=compat -e "$ROOT[test]"
  # byte-compile our sources once: start-up matters for a CLI, and PYTHONDONTWRITEBYTECODE may be set
  "$ROOT/.venv/bin/python" -m compileall -q "$ROOT/toolkit" >/dev/null
  log "python: $("$ROOT/.venv/bin/python" --version), package installed in editable mode"
}

build_helm() {  # build_helm VERSION NAME: build helm VERSION from the Go module proxy as $BIN/NAME
  local version="$1" name="$2"
  if [ -x "$BIN/$name" ] && [ "$("$BIN/$name" version --template '{{.Version}}' 2>/dev/null)" = "$version" ]; then
    log "helm $version already built ($BIN/$name)"; return
  fi
  local major="${version%%.*}" gomod kminor pkg gobin
  pkg="helm.sh/helm/$major"
  gomod="$(go mod download -json "$pkg@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
  kminor="$(sed -nE 's#^\s*k8s.io/client-go v0\.([0-9]+)\..*#\1#p' "$gomod" | head -1)"
  log "building helm $version (default Kubernetes 1.$kminor) from the Go module proxy as $BIN/$name"
  local ld="-s -w -X $pkg/internal/version.version=$version -X $pkg/internal/version.gitTreeState=clean"
  if [ "$major" = v3 ]; then
    # helm 4 reads its default Kubernetes version from client-go's module version at run time; helm 3
    # needs it stamped in, else template and lint assume 1.20
    ld="$ld -X $pkg/pkg/chartutil.k8sVersionMajor=1 -X $pkg/pkg/chartutil.k8sVersionMinor=$kminor"
    ld="$ld -X $pkg/pkg/lint/rules.k8sVersionMajor=1 -X $pkg/pkg/lint/rules.k8sVersionMinor=$kminor"
  fi
  # go install always names the binary "helm": install into a folder of its own, then move it in place
  gobin="$CACHE/build/helm-$version"
  mkdir -p "$gobin"
  GOBIN="$gobin" go install -trimpath -ldflags "$ld" "$pkg/cmd/helm@$version"
  mv -f "$gobin/helm" "$BIN/$name"
  log "helm: $("$BIN/$name" version --short) as $BIN/$name"
}

setup_helm() { build_helm "$HELM_VERSION" helm; }
setup_helm4() { build_helm "$HELM4_VERSION" helm4; }

setup_registry() {
  if [ -x "$BIN/docker-registry" ]; then log "docker-registry already extracted"; return; fi
  local tmp; tmp="$(mktemp -d)"
  apt_download docker-registry "$tmp"
  install -m 0755 "$tmp/usr/bin/docker-registry" "$BIN/docker-registry"
  rm -rf "$tmp"
  log "docker-registry: extracted from Debian's package (not installed as a service)"
}

setup_containerd() {
  if [ -x "$BIN/containerd" ] && [ -x "$BIN/ctr" ]; then log "containerd already extracted"; return; fi
  local tmp; tmp="$(mktemp -d)"
  apt_download containerd "$tmp"
  install -m 0755 "$tmp/usr/bin/containerd" "$BIN/containerd"
  install -m 0755 "$tmp/usr/bin/ctr" "$BIN/ctr"
  rm -rf "$tmp"
  log "containerd: $("$BIN/containerd" --version)"
}

setup_containerd2() {
  if [ -x "$BIN/containerd2" ] && "$BIN/containerd2" --version 2>/dev/null | grep -q " $CONTAINERD2_VERSION "; then
    log "containerd $CONTAINERD2_VERSION already built"; return
  fi
  local tmp; tmp="$(mktemp -d)"
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD2_VERSION" \
    -tags "no_btrfs no_zfs no_devmapper" "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD2_VERSION"
  install -m 0755 "$tmp/containerd" "$BIN/containerd2"
  rm -rf "$tmp"
  log "containerd2: $("$BIN/containerd2" --version)"
}

setup_etcd() {
  if [ -x "$BIN/etcd" ] && "$BIN/etcd" --version 2>/dev/null | grep -q "etcd Version: ${ETCD_VERSION#v}$"; then
    log "etcd $ETCD_VERSION already built"; return
  fi
  local mod="$CACHE/build/etcd-$ETCD_VERSION"
  mkdir -p "$mod"
  (
    cd "$mod"
    [ -f go.mod ] || go mod init tke-catalog.local/etcd-build >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
    go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3
  )
  log "etcd: $("$BIN/etcd" --version | head -1)"
}

kube_ok() {  # kube_ok NAME VERSION: the cached binary reports the wanted version
  [ -x "$BIN/$1" ] && "$BIN/$1" --version 2>/dev/null | grep -q "v$2\$"
}

build_kube() {  # build_kube VERSION SUFFIX COMMAND...: build k8s.io/kubernetes/cmd/COMMAND as $BIN/COMMAND$SUFFIX
  local version="$1" suffix="$2"; shift 2
  local mod="$CACHE/build/kubernetes-v$version" minor="${version#1.}" gomod date cmd ok=1 pkgs=()
  minor="${minor%%.*}"
  for cmd in "$@"; do kube_ok "$cmd$suffix" "$version" || ok=0; pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
  if [ "$ok" = 1 ]; then log "kubernetes v$version $* already built"; return; fi
  mkdir -p "$mod"
  log "building $* v$version (first run: 5-30 min)"
  (
    cd "$mod"
    if [ ! -f go.mod ]; then
      go mod init tke-catalog.local/kubernetes-build >/dev/null 2>&1
      # k8s.io/kubernetes replaces its staging modules with local folders; pin each to the served v0.X.Y.
      gomod="$(go mod download -json "k8s.io/kubernetes@v$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
      for m in $(sed -nE 's#^\s*(k8s\.io/[A-Za-z0-9._-]+) => \./staging/.*#\1#p' "$gomod"); do
        go mod edit -replace="$m=$m@v0.${version#1.}"
      done
      { printf '//go:build tools\n\npackage tools\n\nimport (\n'
        for cmd in "$@"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$cmd"; done
        printf ')\n'; } > tools.go
      go get "k8s.io/kubernetes@v$version" >/dev/null 2>&1
      go mod tidy >/dev/null 2>&1 || true
    fi
    date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    local ld="-s -w"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld="$ld -X $p.gitVersion=v$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$date"
    done
    local out="$mod/out"; mkdir -p "$out"
    go build -trimpath -ldflags "$ld" -o "$out/" "${pkgs[@]}"
    for cmd in "$@"; do mv "$out/$cmd" "$BIN/$cmd$suffix"; done
  )
  log "kube-apiserver$suffix: $("$BIN/kube-apiserver$suffix" --version 2>/dev/null || echo "(not built)")"
}

setup_kube() { build_kube "$KUBE_VERSION" "" kube-apiserver kube-controller-manager kube-scheduler; }

# The oldest Kubernetes minor the Go module proxy serves that builds here: a second real API server the
# version-matrix tests dry-run every chart against (as $BIN/kube-apiserver-$OLDEST_KUBE_MINOR).
OLDEST_KUBE_VERSION="${OLDEST_KUBE_VERSION:-1.29.15}"
setup_kube_oldest() { local m="${OLDEST_KUBE_VERSION%.*}"; build_kube "$OLDEST_KUBE_VERSION" "-$m" kube-apiserver; }

setup_kwok() {
  # kwok >= 0.6 has no built-in stages: without a Stage config it exits with "no stages found". Ship the
  # "fast" set kwokctl uses (node/fast, node/heartbeat-with-lease, pod/fast) from the same module version.
  local stages="$CACHE/kwok/stage-fast-$KWOK_VERSION.yaml"
  if [ -x "$BIN/kwok" ] && [ -s "$stages" ] \
     && [ "$("$BIN/kwok" --version 2>/dev/null | grep -o 'v[0-9][0-9.]*' | head -1)" = "$KWOK_VERSION" ]; then
    log "kwok $KWOK_VERSION already built"; return
  fi
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  local dir f
  dir="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  mkdir -p "$CACHE/kwok"
  for f in "$dir"/kustomize/stage/node/fast/node-*.yaml "$dir"/kustomize/stage/node/heartbeat-with-lease/node-*.yaml \
           "$dir"/kustomize/stage/pod/fast/pod-*.yaml; do
    printf -- '---\n'; cat "$f"
  done > "$stages.tmp"
  mv "$stages.tmp" "$stages"
  log "kwok: $("$BIN/kwok" --version 2>&1 | head -1); stages in $stages"
}

setup_coredns() {
  if [ -x "$BIN/coredns" ] && "$BIN/coredns" -version 2>/dev/null | grep -q "CoreDNS-${COREDNS_VERSION#v}\$"; then
    log "coredns $COREDNS_VERSION already built"; return
  fi
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
  log "coredns: $("$BIN/coredns" -version | head -1)"
}

main() {
  local what=("$@")
  [ ${#what[@]} -gt 0 ] || what=(all)
  for w in "${what[@]}"; do
    case "$w" in
      all) step python setup_python; step helm setup_helm; step helm4 setup_helm4; step registry setup_registry
           step containerd setup_containerd; step containerd2 setup_containerd2; step etcd setup_etcd; step kubernetes setup_kube
           step kubernetes-oldest setup_kube_oldest; step kwok setup_kwok; step coredns setup_coredns ;;
      python) step python setup_python ;;
      helm) step helm setup_helm; step helm4 setup_helm4 ;;
      helm3) step helm setup_helm ;;
      helm4) step helm4 setup_helm4 ;;
      registry) step registry setup_registry ;;
      containerd) step containerd setup_containerd; step containerd2 setup_containerd2 ;;
      control-plane) step etcd setup_etcd; step kubernetes setup_kube; step kubernetes-oldest setup_kube_oldest
                     step kwok setup_kwok ;;
      kube-oldest) step kubernetes-oldest setup_kube_oldest ;;
      coredns) step coredns setup_coredns ;;
      *) log "unknown step '$w' (use all, python, helm, helm3, helm4, registry, containerd, control-plane, kube-oldest or coredns)"; exit 2 ;;
    esac
  done
  log "binaries are in $BIN"
}

main "$@"
