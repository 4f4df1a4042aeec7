#!/usr/bin/env python3
"""Peer: W2 between large point clouds with POT, set up so that POT gives its true answer.
  * exact:     ot.emd2 (uniform weights, squared Euclidean costs) with numItermax = 10^8, so that the
               network simplex is not stopped early; its result_code and any warning are reported
               (result_code 1 is optimal).
  * sliced:    POT's sliced W2 with PROJECTIONS random directions, drawn once with
               ot.sliced.get_random_projections(d, PROJECTIONS, SEED) and passed in chunks, so that the
               projected clouds (n x chunk) stay near 400 MB; the chunks' squared distances are
               averaged with their sizes as weights, which is the same number as one call.
  * sliced-np: the same directions in plain numpy (equal sizes only): sort both projections and
               average the squared differences, what a user who knows the 1-D formula writes.
Usage:  ot_pot_large.py X.csv Y.csv [exact|sliced|sliced-np|both=both] [PROJECTIONS=1000] [SEED=0]
("both" is exact and sliced, plus sliced-np when the sizes are equal.)
Prints: {"n", "m", "d", "seconds", and per part run: "w2_exact", "w2_exact_s", "emd_result_code",
"emd_warnings", "w2_sliced", "w2_sliced_s", "w2_sliced_np", "w2_sliced_np_s", "sliced_chunk"};
"seconds" adds the POT parts run (or is the numpy part for sliced-np).
CSV: one point per row, comma separated, no header.
"""
import sys
import time
import warnings

import numpy as np
import ot

from peer_common import emit

if len(sys.argv) < 3:
    sys.exit(f"usage: {sys.argv[0]} X.csv Y.csv [exact|sliced|sliced-np|both] [PROJECTIONS] [SEED]")
x = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
y = np.loadtxt(sys.argv[2], delimiter=",", ndmin=2)
part = sys.argv[3] if len(sys.argv) > 3 else "both"
if part not in ("exact", "sliced", "sliced-np", "both"):
    sys.exit(f"error: unknown part {part!r}: use exact, sliced, sliced-np or both")
projections = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
out = {"n": len(x), "m": len(y), "d": x.shape[1], "seconds": 0.0}

if part in ("exact", "both"):
    start = time.perf_counter()
    cost = ot.dist(x, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w2_squared, log = ot.emd2(ot.unif(len(x)), ot.unif(len(y)), cost, numItermax=10**8, log=True)
    out["w2_exact_s"] = time.perf_counter() - start
    out["w2_exact"] = float(np.sqrt(w2_squared))
    out["emd_result_code"] = int(log.get("result_code", -1))
    out["emd_warnings"] = [str(w.message) for w in caught]
    out["seconds"] += out["w2_exact_s"]
    del cost

directions = ot.sliced.get_random_projections(x.shape[1], projections, seed)   # (d, PROJECTIONS), unit columns
chunk = max(1, min(projections, int(5e7 // max(len(x), len(y)))))
chunks = [directions[:, lo:lo + chunk] for lo in range(0, projections, chunk)]

if part in ("sliced", "both"):
    start = time.perf_counter()
    total = sum(ot.sliced_wasserstein_distance(x, y, projections=c, p=2) ** 2 * c.shape[1] for c in chunks)
    out["w2_sliced_s"] = time.perf_counter() - start
    out["w2_sliced"] = float(np.sqrt(total / projections))
    out["sliced_chunk"] = chunk
    out["seconds"] += out["w2_sliced_s"]

if part in ("sliced", "sliced-np", "both") and len(x) == len(y):
    start = time.perf_counter()
    total = 0.0
    for c in chunks:
        px, py = np.sort(c.T @ x.T, axis=1), np.sort(c.T @ y.T, axis=1)   # (chunk, n): one row per direction
        total += float(np.sum((px - py) ** 2)) / len(x)
    out["w2_sliced_np_s"] = time.perf_counter() - start
    out["w2_sliced_np"] = float(np.sqrt(total / projections))
    out["sliced_chunk"] = chunk
    if part == "sliced-np":
        out["seconds"] += out["w2_sliced_np_s"]
elif part == "sliced-np":
    sys.exit("error: sliced-np needs clouds of equal sizes")
emit(**out)
