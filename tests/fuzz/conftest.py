"""Hypothesis profiles for the fuzz targets: `ci` (the default: a few hundred examples per target, in
CI) and `long` (by hand: `.venv/bin/python -m pytest tests/fuzz --hypothesis-profile=long`, or
TKE_CATALOG_FUZZ_EXAMPLES=N for N examples per target)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("ci", max_examples=int(os.environ.get("TKE_CATALOG_FUZZ_EXAMPLES", "150")), deadline=None,
                          suppress_health_check=_SLOW_OK, derandomize=True, database=None)
settings.register_profile("long", max_examples=int(os.environ.get("TKE_CATALOG_FUZZ_EXAMPLES", "200000")),
                          deadline=None, suppress_health_check=_SLOW_OK, database=None)
settings.load_profile(os.environ.get("TKE_CATALOG_FUZZ_PROFILE", "ci"))
