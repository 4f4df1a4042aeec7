#!/usr/bin/env python3
"""Peer: the analytic score of a diffused Gaussian mixture in numpy, as a careful user writes it.

    s(x) = -sum_i r_i(x) P_i (x - m_i),   r = softmax_i(log w_i - logdet_i / 2 - (x - m_i)^T P_i (x - m_i) / 2)

The precisions P_i come from a Cholesky factorisation, once and untimed. Per block of rows: one
GEMM against the concatenated precisions [P_1 ... P_k] gives every P_i x; the quadratic forms, a
max-shifted softmax and the weighted sum follow. Blocks hold at most 2^22 numbers. float64.

Workload (peer_common.py): n points 2 N(0, I_d), a random full-covariance k-mixture seen at
x_t = 0.8 x_0 + 0.6 z.
Usage:  gmm_score_numpy.py N D K [REPEATS=5]
Prints: {"peer": "numpy", "n", "d", "k", "seconds" (best of REPEATS after a warm-up), "points_per_s"}
"""
import numpy as np

from peer_common import SCORE_A, SCORE_B, best_seconds, diffused, emit, int_args, precisions, random_mixture

n, d, k, repeats = int_args(["N", "D", "K"], [("REPEATS", 5)])
log_w, means, covs, rng = random_mixture(d, k)
m_t, c_t = diffused(means, covs, SCORE_A, SCORE_B)
prec, logdet = precisions(c_t)
x = 2.0 * rng.standard_normal((n, d))

stacked = np.ascontiguousarray(np.transpose(prec, (1, 0, 2)).reshape(d, k * d))   # [P_1 ... P_k]
shift = np.einsum("kij,kj->ki", prec, m_t)                                         # P_i m_i
log_norm = log_w - 0.5 * logdet
rows = max(1, (1 << 22) // (k * d))


def score(points):
    out = np.empty_like(points)
    for lo in range(0, len(points), rows):
        xb = points[lo:lo + rows]
        g = (xb @ stacked).reshape(len(xb), k, d) - shift        # g_i = P_i (x - m_i)
        quad = np.einsum("nkd,nkd->nk", xb[:, None, :] - m_t, g)
        logits = log_norm - 0.5 * quad
        logits -= logits.max(axis=1, keepdims=True)
        r = np.exp(logits)
        r /= r.sum(axis=1, keepdims=True)
        out[lo:lo + rows] = -np.einsum("nk,nkd->nd", r, g)
    return out


seconds = best_seconds(lambda: score(x), repeats)
emit(peer="numpy", n=n, d=d, k=k, seconds=seconds, points_per_s=n / seconds)
