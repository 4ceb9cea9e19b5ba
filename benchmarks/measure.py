"""The timing every benchmark here shares: the median of repeated runs, in milliseconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_ms(fn: Callable[[], Any], runs: int, warmup: int = 0) -> float:
    """Median wall time of ``fn()`` over ``runs`` calls, after ``warmup`` untimed ones.

    >>> median_ms(lambda: None, 5) >= 0
    True
    """
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000
