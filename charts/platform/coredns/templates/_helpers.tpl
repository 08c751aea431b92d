{{/*
Shared naming, labels and image helpers for the coredns chart.
*/}}

{{/* Labels for every object; pass the root context. */}}
{{- define "coredns.labels" -}}
helm.sh/chart: {{ include "tke-common.chart" . }}
{{ include "coredns.selectorLabels" . }}
app.kubernetes.io/name: {{ include "tke-common.name" . }}
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
