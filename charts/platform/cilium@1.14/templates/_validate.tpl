{{/* Checks that the schema cannot express; included from the ConfigMap so they run on every render. */}}
{{- define "cilium.validate" -}}
{{- if eq .Values.mode "underlay" -}}
{{- if not .Values.nativeRoutingCIDR -}}
{{- fail "cilium: mode=underlay needs nativeRoutingCIDR (the pod CIDR the fabric routes natively, usually the cluster's clusterCIDR); set it, or use mode=overlay" -}}
{{- end -}}
{{- if and .Values.bgp.enabled (not .Values.bgp.switchIP) -}}
{{- fail "cilium: bgp.enabled=true needs bgp.switchIP (the top-of-rack switch to peer with); set it, or set bgp.enabled=false" -}}
{{- end -}}
{{- else if .Values.bgp.enabled -}}
{{- fail "cilium: bgp.enabled=true only applies to mode=underlay; set mode=underlay or bgp.enabled=false" -}}
{{- end -}}
{{- if and .Values.kubeProxyReplacement (not .Values.k8sServiceHost) -}}
{{- fail "cilium: kubeProxyReplacement=true needs k8sServiceHost (and k8sServicePort): the API server's own address, since the kubernetes Service does not route without kube-proxy; set it, or keep kubeProxyReplacement=false" -}}
{{- end -}}
{{- end -}}
