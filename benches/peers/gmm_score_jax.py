#!/usr/bin/env python3
"""Peer: the score of a diffused Gaussian mixture by JAX automatic differentiation, the quickest
thing to write: a log-density (log-sum-exp over components) differentiated with jax.grad,
vectorised over points with vmap and compiled with jit. float64.

Workload (peer_common.py): n points 2 N(0, I_d), a random full-covariance k-mixture seen at
x_t = 0.8 x_0 + 0.6 z. The precisions and log-determinants are computed once, untimed.
Usage:  gmm_score_jax.py N D K [REPEATS=5]
Prints: {"peer": "jax-autograd", "n", "d", "k", "seconds" (best of REPEATS after a warm-up), "points_per_s"}
"""
import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)

from peer_common import SCORE_A, SCORE_B, best_seconds, diffused, emit, int_args, precisions, random_mixture  # noqa: E402

n, d, k, repeats = int_args(["N", "D", "K"], [("REPEATS", 5)])
log_w, means, covs, rng = random_mixture(d, k)
m_t, c_t = diffused(means, covs, SCORE_A, SCORE_B)
prec, logdet = precisions(c_t)
x = jnp.asarray(2.0 * rng.standard_normal((n, d)))

m_t, prec = jnp.asarray(m_t), jnp.asarray(prec)
log_norm = jnp.asarray(log_w - 0.5 * logdet - 0.5 * d * jnp.log(2.0 * jnp.pi))


def log_density(point):
    diff = point - m_t                                        # (k, d)
    quad = jnp.einsum("ki,kij,kj->k", diff, prec, diff)
    return jax.scipy.special.logsumexp(log_norm - 0.5 * quad)


score = jax.jit(jax.vmap(jax.grad(log_density)))
seconds = best_seconds(lambda: score(x).block_until_ready(), repeats)
emit(peer="jax-autograd", n=n, d=d, k=k, seconds=seconds, points_per_s=n / seconds)
