#!/usr/bin/env python3
"""Peer: the analytic score of a diffused Gaussian mixture in JAX (no autodiff), jit-compiled:
the numpy formula of gmm_score_numpy.py on all rows at once (one GEMM against [P_1 ... P_k],
quadratic forms, jax.nn.softmax, weighted sum). Precisions from a Cholesky factorisation, once and
untimed. float64.

Workload (peer_common.py): n points 2 N(0, I_d), a random full-covariance k-mixture seen at
x_t = 0.8 x_0 + 0.6 z.
Usage:  gmm_score_jax_analytic.py N D K [REPEATS=5] [--check]
Prints: {"peer": "jax-analytic", "n", "d", "k", "seconds" (best of REPEATS after a warm-up), "points_per_s"}
--check adds "max_abs_diff" against the autodiff score of the same mixture and points, and
"max_abs_score" for scale.
"""
import sys

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)

from peer_common import SCORE_A, SCORE_B, best_seconds, diffused, emit, int_args, precisions, random_mixture  # noqa: E402

n, d, k, repeats = int_args(["N", "D", "K"], [("REPEATS", 5)])
log_w, means, covs, rng = random_mixture(d, k)
m_t, c_t = diffused(means, covs, SCORE_A, SCORE_B)
prec, logdet = precisions(c_t)
x = jnp.asarray(2.0 * rng.standard_normal((n, d)))

stacked = jnp.asarray(prec.transpose(1, 0, 2).reshape(d, k * d))   # [P_1 ... P_k]
shift = jnp.asarray(jnp.einsum("kij,kj->ki", prec, m_t))            # P_i m_i
log_norm = jnp.asarray(log_w - 0.5 * logdet)
centres = jnp.asarray(m_t)


@jax.jit
def score(points):
    g = (points @ stacked).reshape(-1, k, d) - shift                # g_i = P_i (x - m_i)
    quad = jnp.einsum("nkd,nkd->nk", points[:, None, :] - centres, g)
    r = jax.nn.softmax(log_norm - 0.5 * quad, axis=1)
    return -jnp.einsum("nk,nkd->nd", r, g)


seconds = best_seconds(lambda: score(x).block_until_ready(), repeats)
out = dict(peer="jax-analytic", n=n, d=d, k=k, seconds=seconds, points_per_s=n / seconds)
if "--check" in sys.argv:
    p = jnp.asarray(prec)

    def log_density(point):
        diff = point - centres
        return jax.scipy.special.logsumexp(log_norm - 0.5 * jnp.einsum("ki,kij,kj->k", diff, p, diff))

    reference = jax.jit(jax.vmap(jax.grad(log_density)))(x)
    out["max_abs_diff"] = float(jnp.max(jnp.abs(reference - score(x))))
    out["max_abs_score"] = float(jnp.max(jnp.abs(reference)))
emit(**out)
