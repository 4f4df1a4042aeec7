#!/usr/bin/env python3
"""Peer: the DDPM run of gmm_ddpm_jax.py with the score written analytically (no autodiff), the
whole loop in lax.scan under jit. Per step: a Cholesky factorisation of the k diffused covariances
(k d^3 / 3 flops, once per step, not per particle), the precisions P_i, then for all particles one
GEMM against [P_1 ... P_k], the quadratic forms, softmax responsibilities and -sum_i r_i P_i (x - m_i).
float64.

Same mixture, process, grid and update as gmm_ddpm_jax.py (gmdiff's `Sampler::Ddpm`):
    x <- (x + beta_k s_{t_k}(x)) / sqrt(1 - beta_k) + sqrt(beta_k) xi,   beta_k = (t_k - t_{k+1}) beta(t_k)
Usage:  gmm_ddpm_jax_analytic.py N D K STEPS [REPEATS=3]
Prints: {"peer": "jax-analytic", "n", "d", "k", "steps", "seconds" (best of REPEATS after compiling)}
"""
import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)

from peer_common import emit, int_args, jax_ddpm_run, random_mixture, time_jax_ddpm, vp_scale  # noqa: E402

n, d, k, steps, repeats = int_args(["N", "D", "K", "STEPS"], [("REPEATS", 3)])
log_w, means, covs, _ = random_mixture(d, k)
log_w, means, covs = jnp.asarray(log_w), jnp.asarray(means), jnp.asarray(covs)
eye = jnp.eye(d)


def score(x, t):
    a = vp_scale(t, jnp)
    c = a * a * covs + (1.0 - a * a) * eye                   # (k, d, d)
    chol = jnp.linalg.cholesky(c)
    inv_chol = jax.scipy.linalg.solve_triangular(chol, jnp.broadcast_to(eye, c.shape), lower=True)
    prec = jnp.swapaxes(inv_chol, 1, 2) @ inv_chol
    log_norm = log_w - jnp.sum(jnp.log(jnp.diagonal(chol, axis1=1, axis2=2)), axis=1)
    centres = a * means
    stacked = jnp.swapaxes(prec, 0, 1).reshape(d, k * d)      # [P_1 ... P_k]
    g = (x @ stacked).reshape(-1, k, d) - jnp.einsum("kij,kj->ki", prec, centres)
    quad = jnp.einsum("nkd,nkd->nk", x[:, None, :] - centres, g)
    r = jax.nn.softmax(log_norm - 0.5 * quad, axis=1)
    return -jnp.einsum("nk,nkd->nd", r, g)


run = jax_ddpm_run(score, n, d, steps)
seconds = time_jax_ddpm(run, repeats)
emit(peer="jax-analytic", n=n, d=d, k=k, steps=steps, seconds=seconds)
