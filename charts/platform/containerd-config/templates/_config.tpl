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
The config format the nodes' containerd reads natively: 2 for 1.6/1.7, 3 for 2.0-2.3, 4 from 2.4 on.
*/}}
{{- define "containerd-config.format" -}}
{{- $v := toString .Values.containerdVersion -}}
{{- if semverCompare "<2.0.0-0" (printf "%s.0" $v) -}}2
{{- else if semverCompare "<2.4.0-0" (printf "%s.0" $v) -}}3
{{- else -}}4
{{- end -}}
{{- end -}}

{{/*
containerd's config.toml. Call with (dict "root" . "gpu" BOOL): GPU nodes run runc through
nvidia-container-runtime by default (TKEStack's GPU nodes did), the others plain runc. Strings are
written with toJson: a JSON string is a valid TOML basic string. Registry mirrors and TLS live in
hosts.toml files under registry.configPath; only credentials stay in this file.
*/}}
{{- define "containerd-config.toml" -}}
{{- $ := .root -}}
{{- $v := $.Values -}}
{{- $format := include "containerd-config.format" $ | int -}}
{{- $images := ternary "plugins.\"io.containerd.grpc.v1.cri\"" "plugins.\"io.containerd.cri.v1.images\"" (eq $format 2) -}}
{{- $runtime := ternary "plugins.\"io.containerd.grpc.v1.cri\"" "plugins.\"io.containerd.cri.v1.runtime\"" (eq $format 2) -}}
{{- $secretHosts := include "containerd-config.secretAuthHosts" $ | fromJsonArray -}}
{{- $sandbox := include "tke-common.image" (dict "image" $v.sandboxImage "global" $v.global) -}}
{{- $nvidia := and .gpu $v.nvidia.enabled -}}
# Rendered by the {{ $.Chart.Name }} chart {{ $.Chart.Version }} (release {{ $.Release.Name }}) for containerd {{ $v.containerdVersion }}{{ if $nvidia }}, GPU nodes{{ end }}; edits are overwritten.
version = {{ $format }}

[plugins]
  [{{ $images }}]
{{- if eq $format 2 }}
    sandbox_image = {{ $sandbox | toJson }}
{{- end }}
    max_concurrent_downloads = {{ int $v.maxConcurrentDownloads }}
{{- if ne $format 2 }}
    snapshotter = {{ $v.snapshotter | toJson }}

    [{{ $images }}.pinned_images]
      sandbox = {{ $sandbox | toJson }}
{{- end }}

    [{{ $images }}.registry]
      config_path = {{ printf "%s/certs.d" (trimSuffix "/" $v.install.hostConfigDir) | toJson }}
{{- range $host := keys $v.registry.auths | sortAlpha }}
{{- $auth := index $v.registry.auths $host }}

      [{{ $images }}.registry.configs.{{ $host | toJson }}.auth]
{{- if $auth.existingSecret }}
        # Replaced on the node with base64("user:password") from Secret {{ $auth.existingSecret.name }}.
        auth = "@@AUTH_{{ include "containerd-config.indexOf" (dict "list" $secretHosts "item" $host) }}@@"
{{- else }}
        username = {{ $auth.username | toString | toJson }}
        password = {{ $auth.password | toString | toJson }}
{{- end }}
{{- end }}
{{- if ne $format 2 }}

  [{{ $runtime }}]
{{- end }}

    [{{ $runtime }}.containerd]
{{- if eq $format 2 }}
      snapshotter = {{ $v.snapshotter | toJson }}
{{- end }}
      default_runtime_name = {{ ternary "nvidia" "runc" $nvidia | toJson }}

      [{{ $runtime }}.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"

        [{{ $runtime }}.containerd.runtimes.runc.options]
          SystemdCgroup = {{ $v.systemdCgroup }}
{{- if $nvidia }}

      # GPU containers: runc through the NVIDIA container runtime, the default on these nodes.
      [{{ $runtime }}.containerd.runtimes.nvidia]
        runtime_type = "io.containerd.runc.v2"

        [{{ $runtime }}.containerd.runtimes.nvidia.options]
          BinaryName = {{ $v.nvidia.binaryName | toJson }}
          SystemdCgroup = {{ $v.systemdCgroup }}
{{- end }}
{{- if eq $format 2 }}

    [{{ $runtime }}.cni]
      bin_dir = "/opt/cni/bin"
      conf_dir = "/etc/cni/net.d"
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

{{/* Registry hosts that get a hosts.toml: those with mirrors and those whose TLS is not verified. */}}
{{- define "containerd-config.registryHosts" -}}
{{- $hosts := concat (keys .Values.registry.mirrors) .Values.registry.insecureSkipVerifyHosts | uniq | sortAlpha -}}
{{- toJson $hosts -}}
{{- end -}}

{{/* The folder of a registry host under certs.d: "*" is containerd's _default. */}}
{{- define "containerd-config.hostDir" -}}
{{- if eq . "*" }}_default{{ else }}{{ . }}{{ end -}}
{{- end -}}

{{/* The Secret key of a host's hosts.toml (keys cannot hold ":"; hostnames hold no "_"). */}}
{{- define "containerd-config.hostKey" -}}
hosts_{{ include "containerd-config.hostDir" . | replace ":" "_" }}.toml
{{- end -}}

{{/* The host part of an endpoint URL. */}}
{{- define "containerd-config.endpointHost" -}}
{{- (urlParse .).host -}}
{{- end -}}

{{/*
hosts.toml of one registry host: call with (dict "root" . "host" HOST). Mirrors are tried in order for
pull and resolve, then the registry itself (server); skip_verify where the host is listed insecure.
*/}}
{{- define "containerd-config.hostsToml" -}}
{{- $v := .root.Values -}}
{{- $host := .host -}}
{{- $insecure := $v.registry.insecureSkipVerifyHosts -}}
# Rendered by the {{ .root.Chart.Name }} chart for registry {{ $host }}; edits are overwritten.
{{- if ne $host "*" }}
server = {{ ternary "https://registry-1.docker.io" (printf "https://%s" $host) (eq $host "docker.io") | toJson }}
{{- if has $host $insecure }}
skip_verify = true
{{- end }}
{{- end }}
{{- range $endpoint := index $v.registry.mirrors $host | default list }}

[host.{{ $endpoint | toJson }}]
  capabilities = ["pull", "resolve"]
{{- if has (include "containerd-config.endpointHost" $endpoint) $insecure }}
  skip_verify = true
{{- end }}
{{- end }}
{{- end -}}
