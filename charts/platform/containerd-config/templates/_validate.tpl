{{/* Refusals helm prints before anything is installed. */}}
{{- define "containerd-config.validate" -}}
{{- $v := toString .Values.containerdVersion -}}
{{- if not (regexMatch "^[12]\\.[0-9]+$" $v) -}}
{{- fail (printf "containerd-config: containerdVersion %q is not MAJOR.MINOR; set the nodes' containerd release, e.g. \"1.7\" or \"2.1\" (kubectl get nodes -o wide shows it)" $v) -}}
{{- end -}}
{{- if semverCompare "<1.5.0-0" (printf "%s.0" $v) -}}
{{- fail (printf "containerd-config: containerdVersion %s is older than 1.5, the first to read registry hosts from config_path; upgrade the nodes' containerd first" $v) -}}
{{- end -}}
{{- end -}}
