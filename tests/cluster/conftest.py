"""Until tests/conftest.py imports the cluster fixtures for the whole suite, provide them here.
Delete this file once it does: two definitions of a session fixture would start two control planes."""

from tests.support.cluster_fixtures import (  # noqa: F401 - pytest finds fixtures by name
    control_plane,
    helm_env,
    realistic_control_plane,
)
