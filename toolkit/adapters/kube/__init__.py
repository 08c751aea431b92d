"""The Kubernetes API side of the shell: the client, the per-Cluster inventory and the apply Lease."""
