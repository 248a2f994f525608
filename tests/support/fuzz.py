"""Settings for the fuzz tests: the same examples on every run (CI stays reproducible), or,
with HUB_FUZZ_EXPLORE=1, ten times as many random ones for hunting (docs/api.md)."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

EXPLORE = os.environ.get("HUB_FUZZ_EXPLORE") == "1"


def fuzz(examples: int) -> Any:
    """Hypothesis settings for `examples` cases (ten times as many random ones to explore)."""
    return settings(
        max_examples=examples * (10 if EXPLORE else 1),
        derandomize=not EXPLORE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
