#!/usr/bin/env python3
"""Peer values for crates/metrics/tests/pot_peer.rs, computed with POT (and SciPy, numpy).

Run: python pot_fixtures.py > fixtures.txt   (needs numpy, scipy, pot)
The clouds come from `cloud(n, d, seed)`, a closed-form Weyl-sequence generator that uses only
IEEE +, *, floor and sqrt, in the same order as tests/common/mod.rs, so both sides build
bit-identical inputs without any data file.
"""
import json, math, sys
import numpy as np, ot, scipy, scipy.stats

P = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]


def cloud(n, d, seed):
    X = np.zeros((n, d))
    for i in range(n):
        for k in range(d):
            a = math.sqrt(P[(k + 2 * seed) % 12])
            b = math.sqrt(P[(k + 2 * seed + 5) % 12])
            t = (i + 1) * a + 0.1 * seed
            u = t - math.floor(t)
            s = (i + 1) * b + 0.3 * k
            w = s - math.floor(s)
            z = 2.0 * w - 1.0
            sign = 1.0 if k % 2 == 0 else -1.0
            X[i, k] = (2.0 * u - 1.0) + 0.8 * z * z * z * (k + 1) + 0.25 * seed * sign
    return X


def weights(n, seed):
    """Positive weights 1 + frac((i+1)·sqrt(7) + 0.01·seed), normalised."""
    w = np.array([(lambda t: t - math.floor(t))((i + 1) * math.sqrt(7.0) + 0.01 * seed) + 1.0 for i in range(n)])
    return w / w.sum()


out = {"pot": ot.__version__, "numpy": np.__version__, "scipy": scipy.__version__}

# Exact W2 (ot.emd2 on ot.dist squared Euclidean costs), uniform and weighted.
cases = [(40, 40, 2, 1, 2), (57, 31, 3, 3, 4), (200, 200, 2, 5, 6), (150, 260, 5, 7, 8), (300, 300, 1, 9, 10),
         (333, 500, 2, 11, 12), (64, 64, 8, 13, 14)]
exact = []
for n, m, d, sx, sy in cases:
    X, Y = cloud(n, d, sx), cloud(m, d, sy)
    M = ot.dist(X, Y)
    w2 = math.sqrt(ot.emd2(ot.unif(n), ot.unif(m), M, numItermax=10**8))
    a, b = weights(n, sx), weights(m, sy)
    w2w = math.sqrt(ot.emd2(a, b, M, numItermax=10**8))
    bures = ot.gaussian.bures_wasserstein_distance(X.mean(0), Y.mean(0), np.atleast_2d(np.cov(X.T)), np.atleast_2d(np.cov(Y.T)))
    exact.append({"n": n, "m": m, "d": d, "sx": sx, "sy": sy, "w2": w2, "w2_weighted": w2w, "bures_fitted": float(bures)})
out["exact"] = exact

# Sliced W2 with 10,000 projections; the per-projection values give POT's Monte Carlo error.
sliced = []
for n, m, d, sx, sy in [(300, 400, 2, 21, 22), (250, 250, 5, 23, 24)]:
    X, Y = cloud(n, d, sx), cloud(m, d, sy)
    proj = ot.sliced.get_random_projections(d, 10000, seed=0)
    vals = ot.wasserstein_1d(X @ proj, Y @ proj, p=2)
    sw = float(ot.sliced_wasserstein_distance(X, Y, n_projections=10000, p=2, seed=0))
    assert abs(sw - math.sqrt(vals.mean())) < 1e-12
    se_sq = float(vals.std(ddof=1) / math.sqrt(len(vals)))
    sliced.append({"n": n, "m": m, "d": d, "sx": sx, "sy": sy, "sw2": sw, "se_squared": se_sq})
out["sliced"] = sliced

# Weighted 1-D W2 (ot.wasserstein_1d, p=2) and 1-D energy distance (scipy.stats.energy_distance).
x1, y1 = cloud(90, 1, 31)[:, 0], cloud(130, 1, 32)[:, 0]
a1, b1 = weights(90, 31), weights(130, 32)
out["w1d"] = {"uniform": math.sqrt(float(ot.wasserstein_1d(x1, y1, p=2))),
              "weighted": math.sqrt(float(ot.wasserstein_1d(x1, y1, a1, b1, p=2))),
              "energy": float(scipy.stats.energy_distance(x1, y1))}

# Unbiased MMD² with the median-heuristic Gaussian kernel, straight numpy.
X, Y = cloud(60, 3, 41), cloud(45, 3, 42)
Z = np.vstack([X, Y])
D2 = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1)
iu = np.triu_indices(len(Z), 1)
h = float(np.median(np.sqrt(D2[iu])))
K = np.exp(-D2 / (2 * h * h))
n, m = len(X), len(Y)
kxx, kyy, kxy = K[:n, :n], K[n:, n:], K[:n, n:]
mmd = (kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean()
E = np.sqrt(D2)
energy = 2 * E[:n, n:].mean() - E[:n, :n].mean() - E[n:, n:].mean()
out["mmd"] = {"h": h, "mmd2": float(mmd), "energy_sq": float(energy)}

# Mixture Wasserstein (ot.gmm.gmm_ot_loss returns MW2²).
ms = np.array([[0.0, 0.0], [3.0, 1.0], [-1.0, 2.5]])
mt = np.array([[0.5, -0.2], [2.0, 2.0]])
Cs = np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.4, 0.0], [0.0, 0.4]], [[2.0, -0.7], [-0.7, 1.0]]])
Ct = np.array([[[0.8, 0.1], [0.1, 1.2]], [[1.5, 0.5], [0.5, 0.6]]])
ws, wt = np.array([0.5, 0.3, 0.2]), np.array([0.6, 0.4])
out["gmm"] = {"mw2_sq": float(ot.gmm.gmm_ot_loss(ms, mt, Cs, Ct, ws, wt))}

json.dump(out, sys.stdout, indent=1)
print()
