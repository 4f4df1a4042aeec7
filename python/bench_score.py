"""Times GaussianMixture.score on n x d points, k full-covariance components, called from numpy
(best of ROUNDS), for the overhead comparison with `cargo xtask bench score --n N --d D --k K`
(docs/python.md). Usage: python python/bench_score.py [N D K ROUNDS]."""

import sys
import time

import numpy as np

import gmdiff


def main():
    n, d, k, rounds = (int(a) for a in (sys.argv[1:5] if len(sys.argv) > 4 else (20000, 32, 16, 5)))
    rng = np.random.default_rng(1)
    means = rng.normal(size=(k, d)) * 3
    a = rng.normal(size=(k, d, d)) / np.sqrt(d)
    covs = a @ a.transpose(0, 2, 1) + 0.5 * np.eye(d)
    m = gmdiff.GaussianMixture(np.full(k, 1.0 / k), means, covs)
    x = rng.normal(size=(n, d)) * 3
    m.score(x[:10])  # factorise the density once, outside the timing (the Rust bench does too)
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        m.score(x)
        best = min(best, time.perf_counter() - t0)
    print(f'{{"workload": "score", "n": {n}, "d": {d}, "k": {k}, "seconds": {best:.6f}, "from": "python"}}')


if __name__ == "__main__":
    main()
