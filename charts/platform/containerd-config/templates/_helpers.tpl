{{/*
Shared naming, labels and image helpers for the containerd-config chart.
*/}}

{{/* The chart name, overridable with nameOverride. */}}
{{- define "containerd-config.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* A release-scoped name: the release name alone when it already contains the chart name. */}}
{{- define "containerd-config.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* chart-version, as helm.sh/chart wants it. */}}
{{- define "containerd-config.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels for every object; pass the root context. */}}
{{- define "containerd-config.labels" -}}
helm.sh/chart: {{ include "containerd-config.chart" . }}
{{ include "containerd-config.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Labels that select this release's pods; they never change between upgrades. */}}
{{- define "containerd-config.selectorLabels" -}}
app.kubernetes.io/name: {{ include "containerd-config.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
The full reference of one image.
Call with (dict "image" .Values.image.x "global" .Values.global): a non-empty
global.imageRegistry replaces the registry of every image at once (air-gapped mirrors).
*/}}
{{- define "containerd-config.image" -}}
{{- $global := .global | default dict -}}
{{- $registry := .image.registry | default "" -}}
{{- if $global.imageRegistry -}}
{{- $registry = $global.imageRegistry -}}
{{- end -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $registry) .image.repository (toString .image.tag) -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (toString .image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Lease that lets one node at a time restart containerd. */}}
{{- define "containerd-config.lockName" -}}
{{- printf "%s-restart" (include "containerd-config.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
