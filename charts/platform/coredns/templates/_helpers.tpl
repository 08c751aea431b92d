{{/*
Shared naming, labels and image helpers for the coredns chart.
*/}}

{{/* The chart name, overridable with nameOverride. */}}
{{- define "coredns.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* A release-scoped name: the release name alone when it already contains the chart name. */}}
{{- define "coredns.fullname" -}}
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
{{- define "coredns.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels for every object; pass the root context. */}}
{{- define "coredns.labels" -}}
helm.sh/chart: {{ include "coredns.chart" . }}
{{ include "coredns.selectorLabels" . }}
app.kubernetes.io/name: {{ include "coredns.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The label that selects the DNS pods: kubeadm's and TKEStack's (`k8s-app: kube-dns`), which DNS tooling
looks for and which lets a kubeadm-made CoreDNS be adopted in place (a Deployment's selector is immutable).
It never changes between upgrades. */}}
{{- define "coredns.selectorLabels" -}}
k8s-app: kube-dns
{{- end -}}

{{/*
The full reference of one image.
Call with (dict "image" .Values.image.x "global" .Values.global): a non-empty
global.imageRegistry replaces the registry of every image at once (air-gapped mirrors).
*/}}
{{- define "coredns.image" -}}
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
