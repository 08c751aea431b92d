{{- define "prom.componentSelector" -}}
{{ include "prom.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "prom.componentName" -}}
{{- printf "%s-%s" (include "prom.fullname" .ctx) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}
