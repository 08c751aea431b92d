"""The imperative shell: one kind of side effect per module (files, environment, helm, Kubernetes,
registries). The helm, kube and registry adapters never import each other."""
