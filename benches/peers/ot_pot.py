#!/usr/bin/env python3
"""Peer: W2 between two point clouds with POT (Python Optimal Transport), the three ways gmdiff's
metrics compute it, each timed once:
  * exact:  ot.emd2 with uniform weights on the squared Euclidean cost matrix (ot.dist), then the
            square root (emd2 returns W2^2); numItermax = 10^7;
  * sliced: ot.sliced_wasserstein_distance(p=2) with PROJECTIONS random directions drawn from SEED
            (POT returns the square root of the mean squared 1-D distance);
  * bures:  ot.gaussian.bures_wasserstein_distance between the fitted Gaussians (sample means and
            np.cov, i.e. 1/(n-1) normalisation); POT returns W2 itself.
The timings include building the cost matrix (exact) and fitting the Gaussians (bures).

Usage:  ot_pot.py X.csv Y.csv [PROJECTIONS=200] [SEED=0]   (one point per row, comma separated, no header)
Prints: {"n", "m", "d", "w2_exact", "w2_exact_s", "w2_sliced", "w2_sliced_s", "w2_bures", "w2_bures_s"}
"""
import sys
import time

import numpy as np
import ot

from peer_common import emit

if len(sys.argv) < 3:
    sys.exit(f"usage: {sys.argv[0]} X.csv Y.csv [PROJECTIONS] [SEED]")
x = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
y = np.loadtxt(sys.argv[2], delimiter=",", ndmin=2)
projections = int(sys.argv[3]) if len(sys.argv) > 3 else 200
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
result = {"n": len(x), "m": len(y), "d": x.shape[1]}


def timed(name, compute):
    start = time.perf_counter()
    value = compute()
    result["w2_" + name + "_s"] = time.perf_counter() - start
    result["w2_" + name] = float(value)


timed("exact", lambda: np.sqrt(ot.emd2(ot.unif(len(x)), ot.unif(len(y)), ot.dist(x, y), numItermax=10**7)))
timed("sliced", lambda: ot.sliced_wasserstein_distance(x, y, n_projections=projections, p=2, seed=seed))
timed("bures", lambda: ot.gaussian.bures_wasserstein_distance(
    x.mean(axis=0), y.mean(axis=0), np.atleast_2d(np.cov(x.T)), np.atleast_2d(np.cov(y.T))))
emit(**{key: result[key] for key in ["n", "m", "d", "w2_exact", "w2_exact_s", "w2_sliced", "w2_sliced_s", "w2_bures", "w2_bures_s"]})
