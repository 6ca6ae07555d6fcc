"""Suite-wide settings: hypothesis profiles sized for a shared 2-core machine."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Machines here are shared and noisy: no per-example deadlines (timing belongs to benchmarks/).
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
