{{- define "lbcf.tlsSecretName" -}}
{{- .Values.tls.existingSecret | default (printf "%s-tls" (include "lbcf.fullname" .)) -}}
{{- end -}}
