{{/*
Shared naming, labels and image helpers for the containerd-config chart.
*/}}

{{/* The Lease that lets one node at a time restart containerd. */}}
{{- define "containerd-config.lockName" -}}
{{- printf "%s-restart" (include "tke-common.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
