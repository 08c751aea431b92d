{{/*
Shared helpers of every tke-catalog chart. Each takes the calling chart's root context (`.`), except
`tke-common.image`, which takes (dict "image" .Values.image.x "global" .Values.global).
*/}}

{{/* The chart name, overridable with nameOverride. */}}
{{- define "tke-common.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* A release-scoped name: the release name alone when it already contains the chart name. */}}
{{- define "tke-common.fullname" -}}
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
{{- define "tke-common.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select this release's pods; they never change between upgrades. */}}
{{- define "tke-common.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tke-common.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels for every object. */}}
{{- define "tke-common.labels" -}}
helm.sh/chart: {{ include "tke-common.chart" . }}
{{ include "tke-common.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
The full reference of one image: a non-empty global.imageRegistry replaces the registry of every
image at once (air-gapped mirrors; see `tke-catalog images --image-registry` and `mirror`).
*/}}
{{- define "tke-common.image" -}}
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

{{/* The service account's name: the release-scoped name unless serviceAccount.name says otherwise. */}}
{{- define "tke-common.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tke-common.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets for a pod spec, from the `imagePullSecrets` list of names. */}}
{{- define "tke-common.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets -}}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}
