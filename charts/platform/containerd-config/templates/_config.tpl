{{/*
Sorted registry hosts with an existingSecret, so each gets a stable placeholder index.
*/}}
{{- define "containerd-config.secretAuthHosts" -}}
{{- $hosts := list -}}
{{- range $host := keys .Values.registry.auths | sortAlpha -}}
{{- if (index $.Values.registry.auths $host).existingSecret -}}
{{- $hosts = append $hosts $host -}}
{{- end -}}
{{- end -}}
{{- toJson $hosts -}}
{{- end -}}

{{/*
containerd's config.toml, version 2 (containerd 1.6/1.7). Strings are written with toJson: a JSON
string is a valid TOML basic string.
*/}}
{{- define "containerd-config.toml" -}}
{{- $cri := "plugins.\"io.containerd.grpc.v1.cri\"" -}}
{{- $secretHosts := include "containerd-config.secretAuthHosts" . | fromJsonArray -}}
# Rendered by the {{ .Chart.Name }} chart {{ .Chart.Version }} (release {{ .Release.Name }}); edits are overwritten.
version = 2

[plugins]
  [{{ $cri }}]
    sandbox_image = {{ include "containerd-config.image" (dict "image" .Values.sandboxImage "global" .Values.global) | toJson }}
    max_concurrent_downloads = {{ int .Values.maxConcurrentDownloads }}

    [{{ $cri }}.containerd]
      snapshotter = {{ .Values.snapshotter | toJson }}
      default_runtime_name = "runc"

      [{{ $cri }}.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"

        [{{ $cri }}.containerd.runtimes.runc.options]
          SystemdCgroup = {{ .Values.systemdCgroup }}

    [{{ $cri }}.cni]
      bin_dir = "/opt/cni/bin"
      conf_dir = "/etc/cni/net.d"

    [{{ $cri }}.registry]
{{- range $host := keys .Values.registry.mirrors | sortAlpha }}

      [{{ $cri }}.registry.mirrors.{{ $host | toJson }}]
        endpoint = {{ index $.Values.registry.mirrors $host | toJson }}
{{- end }}
{{- range $host := keys .Values.registry.auths | sortAlpha }}
{{- $auth := index $.Values.registry.auths $host }}

      [{{ $cri }}.registry.configs.{{ $host | toJson }}.auth]
{{- if $auth.existingSecret }}
        # Replaced on the node with base64("user:password") from Secret {{ $auth.existingSecret.name }}.
        auth = "@@AUTH_{{ include "containerd-config.indexOf" (dict "list" $secretHosts "item" $host) }}@@"
{{- else }}
        username = {{ $auth.username | toString | toJson }}
        password = {{ $auth.password | toString | toJson }}
{{- end }}
{{- end }}
{{- range $host := .Values.registry.insecureSkipVerifyHosts | sortAlpha }}

      [{{ $cri }}.registry.configs.{{ $host | toJson }}.tls]
        insecure_skip_verify = true
{{- end }}
{{- end -}}

{{/* The position of item in list, as a string. */}}
{{- define "containerd-config.indexOf" -}}
{{- $found := "" -}}
{{- range $i, $x := .list -}}
{{- if and (eq $x $.item) (eq $found "") -}}
{{- $found = toString $i -}}
{{- end -}}
{{- end -}}
{{- $found -}}
{{- end -}}
