{{- define "lbcf.tlsSecretName" -}}
{{- .Values.tls.existingSecret | default (printf "%s-tls" (include "tke-common.fullname" .)) -}}
{{- end -}}
