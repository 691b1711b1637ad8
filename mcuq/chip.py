"""The target chip as mcuq sees it: a control core and a cluster of up to 8 RV32 cores."""
from __future__ import annotations

from mcuq.errors import McuqError

MAX_CORES = 8  # the cluster of a GAP9-class chip


def check_cores(cores: int) -> int:
    if not 1 <= cores <= MAX_CORES:
        raise McuqError(f"--cores {cores}: the cluster has 1 to {MAX_CORES} cores")
    return cores
