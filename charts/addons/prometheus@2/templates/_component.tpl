{{- define "prom.componentSelector" -}}
{{ include "tke-common.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "prom.componentName" -}}
{{- printf "%s-%s" (include "tke-common.fullname" .ctx) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}
