{{/* Selector labels of one component: (dict "ctx" $ "component" "manager"). */}}
{{- define "gpumgr.componentSelector" -}}
{{ include "gpumgr.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}
