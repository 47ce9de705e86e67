"""Settings every CPU backend shares: how many threads, and what the CPU can do."""

from __future__ import annotations

import functools
import os

import psutil


@functools.cache
def physical_cores() -> int:
    """Physical cores this process may use: one inference thread per core.

    Hyper-threads share a core's vector units, so a second thread per core makes a
    convolution slower, not faster; the process's CPU affinity (taskset, containers)
    bounds the count too.
    """
    physical = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        allowed = physical
    return max(1, min(physical, allowed))


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_has_bf16() -> bool:
    """Whether the CPU computes bf16 natively (AVX-512 BF16 or AMX), so bf16 can be faster."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})
