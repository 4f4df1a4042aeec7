#!/usr/bin/env python3
"""Peer timing for `gmdiff mmd --permutations 0`: one unbiased MMD² with the Gaussian kernel
k(x, y) = exp(-|x - y|^2 / (2 h^2)), computed the way a numpy user blocks it.

For each pair of samples (x-x, y-y, x-y), rows of the first are taken in chunks of C so that a
chunk's C x m distance matrix holds about 2^21 doubles (16 MB); the squared distances come from
one GEMM, |a|^2 + |b|^2 - 2 a.b, clipped at 0 against rounding; exp; sum. The x-x and y-y sums
drop their diagonal (k(x, x) = 1):

    MMD^2_u = (S_xx - n) / (n (n - 1)) + (S_yy - m) / (m (m - 1)) - 2 S_xy / (n m)

float64 throughout. Time: best of REPEATS calls after one warm-up, CSV loading excluded.

Usage: mmd_numpy.py X.csv Y.csv BANDWIDTH [REPEATS]
Prints one JSON line {"peer": "numpy-blocked", "n", "m", "d", "bandwidth", "mmd2", "seconds", "numpy",
"peak_rss_mb"} (peak_rss_mb: this process's peak resident set, getrusage ru_maxrss, the interpreter
and numpy included).
"""
import json
import resource
import sys
import time

import numpy as np


def kernel_sum(a, b, gamma):
    """sum_{i, j} exp(-gamma |a_i - b_j|^2), by chunks of rows of a."""
    sq_b = np.sum(b * b, axis=1)
    chunk = max(1, (1 << 21) // len(b))
    total = 0.0
    for start in range(0, len(a), chunk):
        rows = a[start:start + chunk]
        d2 = np.sum(rows * rows, axis=1)[:, None] + sq_b[None, :]
        d2 -= 2.0 * (rows @ b.T)
        np.maximum(d2, 0.0, out=d2)
        d2 *= -gamma
        np.exp(d2, out=d2)
        total += float(d2.sum())
    return total


def mmd2_unbiased(x, y, h):
    gamma = 1.0 / (2.0 * h * h)
    n, m = len(x), len(y)
    s_xx = kernel_sum(x, x, gamma) - n
    s_yy = kernel_sum(y, y, gamma) - m
    s_xy = kernel_sum(x, y, gamma)
    return s_xx / (n * (n - 1)) + s_yy / (m * (m - 1)) - 2.0 * s_xy / (n * m)


def main():
    x = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
    y = np.loadtxt(sys.argv[2], delimiter=",", ndmin=2)
    h = float(sys.argv[3])
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    value = mmd2_unbiased(x, y, h)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = mmd2_unbiased(x, y, h)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"peer": "numpy-blocked", "n": len(x), "m": len(y), "d": x.shape[1], "bandwidth": h,
                      "mmd2": value, "seconds": best, "numpy": np.__version__,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    main()
