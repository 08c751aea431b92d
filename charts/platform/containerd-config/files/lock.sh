#!/bin/sh
# One node at a time restarts containerd, also on the first install (a DaemonSet's maxUnavailable only
# paces updates): a coordination.k8s.io Lease in the release namespace is the lock (POSIX sh + curl).
#
#   lock.sh acquire   when $STAGE/state says containerd must restart, create the Lease, or wait while
#                     another node's pod holds it; a Lease whose holder pod is gone, or older than
#                     STALE_SECONDS, is deleted (with a resourceVersion precondition) and taken
#   lock.sh release   delete the Lease when this pod holds it
#
# Environment: LOCK_NAME, NAMESPACE, POD_NAME, NODE_NAME, STAGE, API (default: the in-cluster address),
# TOKEN_FILE, CA_FILE, STALE_SECONDS, POLL_SECONDS.
set -eu

API=${API:-https://${KUBERNETES_SERVICE_HOST:-kubernetes.default.svc}:${KUBERNETES_SERVICE_PORT:-443}}
TOKEN_FILE=${TOKEN_FILE:-/var/run/secrets/tke-catalog/token}
CA_FILE=${CA_FILE:-/var/run/secrets/tke-catalog/ca.crt}
STALE_SECONDS=${STALE_SECONDS:-600}
POLL_SECONDS=${POLL_SECONDS:-3}
LEASES="$API/apis/coordination.k8s.io/v1/namespaces/$NAMESPACE/leases"
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

log() { echo "containerd-config [$NODE_NAME]: $*"; }
fail() { echo "containerd-config [$NODE_NAME]: $*" >&2; exit 1; }

api() {  # api METHOD URL [BODY] -> HTTP status on stdout, body in $OUT
  if [ $# -ge 3 ]; then
    curl -sS -A tke-catalog-containerd-config --cacert "$CA_FILE" -H "Authorization: Bearer $(cat "$TOKEN_FILE")" -H 'Content-Type: application/json' \
      -o "$OUT" -w '%{http_code}' -X "$1" "$2" --data "$3"
  else
    curl -sS -A tke-catalog-containerd-config --cacert "$CA_FILE" -H "Authorization: Bearer $(cat "$TOKEN_FILE")" -o "$OUT" -w '%{http_code}' -X "$1" "$2"
  fi
}

field() {  # field NAME: the first string field NAME of the JSON object in $OUT
  tr -d '\n' < "$OUT" | sed -n "s/^[^\"]*\(\"[^\"]*\"[^\"]*\)*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\2/p"
}

denied() {
  fail "the API server refused the lock ($1): the release's Role must allow get/create/delete on leases and get on pods in $NAMESPACE"
}

acquire() {
  state=$(cat "$STAGE/state" 2>/dev/null || echo unchanged)
  if [ "$state" != config ]; then log "no containerd restart needed; not taking the lock"; return 0; fi
  said=""
  while :; do
    now=$(date +%s)
    body="{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"$LOCK_NAME\",\"annotations\":{\"tke-catalog.io/node\":\"$NODE_NAME\",\"tke-catalog.io/acquired\":\"$now\"}},\"spec\":{\"holderIdentity\":\"$POD_NAME\"}}"
    code=$(api POST "$LEASES" "$body")
    case "$code" in
      201) log "took the restart lock $NAMESPACE/$LOCK_NAME"; return 0 ;;
      409) ;;
      401|403) denied "$code" ;;
      *) fail "creating Lease $NAMESPACE/$LOCK_NAME failed with HTTP $code: $(cat "$OUT")" ;;
    esac
    code=$(api GET "$LEASES/$LOCK_NAME")
    case "$code" in
      404) continue ;;
      200) ;;
      401|403) denied "$code" ;;
      *) fail "reading Lease $NAMESPACE/$LOCK_NAME failed with HTTP $code" ;;
    esac
    holder=$(field holderIdentity)
    node=$(field 'tke-catalog.io\/node')
    since=$(field 'tke-catalog.io\/acquired')
    version=$(field resourceVersion)
    if [ "$holder" = "$POD_NAME" ]; then log "already holds the restart lock"; return 0; fi
    stale=""
    if [ -n "$holder" ]; then
      pod=$(api GET "$API/api/v1/namespaces/$NAMESPACE/pods/$holder")
      [ "$pod" = 404 ] && stale="its holder pod $holder is gone"
    fi
    if [ -z "$stale" ] && [ -n "$since" ] && [ $((now - since)) -gt "$STALE_SECONDS" ]; then
      stale="it is older than ${STALE_SECONDS}s"
    fi
    if [ -n "$stale" ]; then
      log "breaking the restart lock held by node ${node:-?}: $stale"
      api DELETE "$LEASES/$LOCK_NAME" "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"preconditions\":{\"resourceVersion\":\"$version\"}}" >/dev/null
      continue
    fi
    if [ "$said" != "$holder" ]; then
      log "waiting: node ${node:-?} (pod $holder) is restarting containerd"
      said=$holder
    fi
    sleep "$POLL_SECONDS"
  done
}

release() {
  code=$(api GET "$LEASES/$LOCK_NAME")
  case "$code" in
    404) return 0 ;;
    200) ;;
    401|403) denied "$code" ;;
    *) fail "reading Lease $NAMESPACE/$LOCK_NAME failed with HTTP $code" ;;
  esac
  [ "$(field holderIdentity)" = "$POD_NAME" ] || return 0
  version=$(field resourceVersion)
  code=$(api DELETE "$LEASES/$LOCK_NAME" "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"preconditions\":{\"resourceVersion\":\"$version\"}}")
  case "$code" in
    200|202|404|409) log "released the restart lock" ;;
    *) fail "releasing Lease $NAMESPACE/$LOCK_NAME failed with HTTP $code" ;;
  esac
}

case "${1:-}" in
  acquire) acquire ;;
  release) release ;;
  *) echo "usage: lock.sh acquire|release" >&2; exit 2 ;;
esac
