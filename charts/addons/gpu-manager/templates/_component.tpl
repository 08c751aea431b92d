{{/* Selector labels of one component: (dict "ctx" $ "component" "manager"). */}}
{{- define "gpumgr.componentSelector" -}}
{{ include "tke-common.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}
