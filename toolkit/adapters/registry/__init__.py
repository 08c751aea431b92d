"""The OCI registry side of the shell: the distribution API calls publish, pull and apply need."""
