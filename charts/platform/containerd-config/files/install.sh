#!/bin/sh
# containerd-config's node-side installer (POSIX sh; busybox in the pod, any sh in the tests).
#
#   install.sh prepare   stage the new config.toml and hosts.toml files, refuse nodes whose containerd is
#                        not containerd.service (k3s, RKE2), validate the new file with the node's own
#                        containerd, and record what changed in $STAGE/state
#   install.sh switch    put the staged files in place; when config.toml changed, keep the previous file,
#                        restart containerd, and restore the previous file (and restart again) when
#                        containerd does not come back healthy, failing the pod so the rollout stops
#
# Environment (the chart sets it; the tests point it at a throw-away root and a fake service manager):
#   NODE_NAME, SOURCE (rendered files), AUTH_DIR (existing-Secret credentials), CONFIG_KEY (config.toml or
#   config-gpu.toml), STAGE (scratch shared by the steps), HOST_DIR (the host's config folder as this
#   container sees it), HOST_CONFIG_DIR (the same folder as the host sees it), HOST_EXEC (prefix running a
#   command on the host, e.g. nsenter -t 1 -m -u -i -n -p --), RESTART (true|false), HEALTH_TIMEOUT
#   (seconds), CONTAINERD_SOCKET (on the host).
set -eu

log() { echo "containerd-config [$NODE_NAME]: $*"; }
fail() { echo "containerd-config [$NODE_NAME]: $*" >&2; exit 1; }
host() { $HOST_EXEC "$@"; }
MANAGED=.tke-catalog-managed

stage_files() {
  rm -rf "$STAGE/new"
  mkdir -p "$STAGE/new/certs.d"
  cp "$SOURCE/$CONFIG_KEY" "$STAGE/new/config.toml"
  # Registry credentials from existing Secrets: each file holds base64("user:password").
  for file in "$AUTH_DIR"/AUTH_*; do
    [ -e "$file" ] || continue
    name=$(basename "$file")
    value=$(tr -d '\n' < "$file")
    if ! printf '%s' "$value" | grep -Eq '^[A-Za-z0-9+/=]+$'; then
      fail "registry credential $name is not base64(user:password); fix the Secret it comes from"
    fi
    sed -i "s|@@${name}@@|${value}|" "$STAGE/new/config.toml"
  done
  : > "$STAGE/new/certs.d/$MANAGED"
  for file in "$SOURCE"/hosts_*.toml; do
    [ -e "$file" ] || continue
    dir=${file##*/hosts_}
    dir=${dir%.toml}
    [ "$dir" = _default ] || dir=$(printf '%s' "$dir" | tr _ :)
    mkdir -p "$STAGE/new/certs.d/$dir"
    cp "$file" "$STAGE/new/certs.d/$dir/hosts.toml"
    echo "$dir" >> "$STAGE/new/certs.d/$MANAGED"
  done
}

hosts_changed() {
  old="$HOST_DIR/certs.d/$MANAGED"
  [ -f "$old" ] || [ -s "$STAGE/new/certs.d/$MANAGED" ] || return 1
  [ -f "$old" ] && cmp -s "$old" "$STAGE/new/certs.d/$MANAGED" || return 0
  while read -r dir; do
    cmp -s "$STAGE/new/certs.d/$dir/hosts.toml" "$HOST_DIR/certs.d/$dir/hosts.toml" || return 0
  done < "$STAGE/new/certs.d/$MANAGED"
  return 1
}

prepare() {
  if host test -e /var/lib/rancher/k3s/agent/etc/containerd || host test -e /var/lib/rancher/rke2/agent/etc/containerd; then
    fail "refusing: containerd on this node is run by k3s/RKE2, not containerd.service (its config is generated from /var/lib/rancher/*/agent/etc/containerd/config.toml.tmpl). Nothing was changed. Keep containerd-config off such nodes (spec.features.disabledApps: [containerd-config]) and configure registries in k3s/RKE2's registries.yaml"
  fi
  if [ "$RESTART" = true ] && ! host systemctl cat containerd.service >/dev/null 2>&1; then
    fail "refusing: the host's systemd has no containerd.service, so containerd cannot be restarted safely here. Nothing was changed. Install containerd as containerd.service, or set install.restartContainerd=false and restart it yourself"
  fi
  stage_files
  state=unchanged
  if hosts_changed; then state=hosts; fi
  if ! cmp -s "$STAGE/new/config.toml" "$HOST_DIR/config.toml" 2>/dev/null; then
    cp "$STAGE/new/config.toml" "$HOST_DIR/config.toml.candidate"
    chmod 0600 "$HOST_DIR/config.toml.candidate"
    if ! errors=$(host containerd --config "$HOST_CONFIG_DIR/config.toml.candidate" config dump 2>&1 >/dev/null); then
      rm -f "$HOST_DIR/config.toml.candidate"
      fail "the node's containerd rejects the new config.toml, so nothing was changed: $errors"
    fi
    rm -f "$HOST_DIR/config.toml.candidate"
    state=config
  fi
  echo "$state" > "$STAGE/state"
  log "prepared: $state"
}

healthy() {
  host systemctl is-active --quiet containerd || return 1
  plugins=$(host ctr --address "$CONTAINERD_SOCKET" plugins ls 2>/dev/null) || return 1
  printf '%s\n' "$plugins" | grep -Eq '^io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*[[:space:]]ok[[:space:]]*$'
}

wait_healthy() {
  waited=0
  while [ "$waited" -lt "$HEALTH_TIMEOUT" ]; do
    if healthy; then return 0; fi
    sleep 1
    waited=$((waited + 1))
  done
  return 1
}

install_hosts() {
  mkdir -p "$HOST_DIR/certs.d"
  while read -r dir; do
    mkdir -p "$HOST_DIR/certs.d/$dir"
    cp "$STAGE/new/certs.d/$dir/hosts.toml" "$HOST_DIR/certs.d/$dir/hosts.toml.new"
    mv "$HOST_DIR/certs.d/$dir/hosts.toml.new" "$HOST_DIR/certs.d/$dir/hosts.toml"
  done < "$STAGE/new/certs.d/$MANAGED"
  # Folders an earlier revision wrote and this one does not; folders someone else wrote stay.
  if [ -f "$HOST_DIR/certs.d/$MANAGED" ]; then
    while read -r dir; do
      grep -qxF "$dir" "$STAGE/new/certs.d/$MANAGED" || rm -rf "${HOST_DIR:?}/certs.d/$dir"
    done < "$HOST_DIR/certs.d/$MANAGED"
  fi
  cp "$STAGE/new/certs.d/$MANAGED" "$HOST_DIR/certs.d/$MANAGED"
}

switch() {
  state=$(cat "$STAGE/state")
  case "$state" in
    unchanged) log "config.toml and registry hosts unchanged"; return 0 ;;
    hosts) install_hosts; log "registry hosts updated (containerd reads them on each pull; no restart)"; return 0 ;;
  esac
  install_hosts
  had_previous=false
  if [ -f "$HOST_DIR/config.toml" ]; then
    had_previous=true
    cp -p "$HOST_DIR/config.toml" "$HOST_DIR/config.toml.previous"
    # The node's own file from before the chart, kept once, to undo the chart by hand.
    [ -f "$HOST_DIR/config.toml.orig" ] || cp -p "$HOST_DIR/config.toml" "$HOST_DIR/config.toml.orig"
  fi
  cp "$STAGE/new/config.toml" "$HOST_DIR/config.toml.new"
  chmod 0600 "$HOST_DIR/config.toml.new"
  mv "$HOST_DIR/config.toml.new" "$HOST_DIR/config.toml"
  log "config.toml installed"
  if [ "$RESTART" != true ]; then
    log "install.restartContainerd is false: restart containerd yourself to apply it"
    return 0
  fi
  # Running containers survive: their shims outlive the daemon.
  host systemctl restart containerd || true
  if wait_healthy; then
    log "containerd restarted and healthy (CRI plugin ok)"
    return 0
  fi
  if [ "$had_previous" = true ]; then
    mv "$HOST_DIR/config.toml.previous" "$HOST_DIR/config.toml"
  else
    rm -f "$HOST_DIR/config.toml"
  fi
  host systemctl restart containerd || true
  if wait_healthy; then
    after="containerd is healthy again with it"
  else
    after="containerd is still not healthy: look at journalctl -u containerd on the node"
  fi
  fail "containerd did not become healthy within ${HEALTH_TIMEOUT}s with the new config.toml; the previous config.toml is restored and $after. The rollout stops at this node"
}

case "${1:-}" in
  prepare) prepare ;;
  switch) switch ;;
  *) echo "usage: install.sh prepare|switch" >&2; exit 2 ;;
esac
