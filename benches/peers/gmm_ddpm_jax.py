#!/usr/bin/env python3
"""Peer: a whole DDPM sampling run on a Gaussian mixture in JAX, with the exact score obtained by
automatic differentiation, as a researcher would first write it: log p_t(x) of the diffused mixture
(covariances a_t^2 S_i + b_t^2 I, a linear solve and a log-determinant, log-sum-exp over
components), jax.grad, vmap over particles; the steps run in lax.scan under jit. float64.

Update (gmdiff's `Sampler::Ddpm` on `Schedule::uniform_vp(STEPS, 1e-3)`), grid t_0 = 1 > ... > t_S = 1e-3:
    x <- (x + beta_k s_{t_k}(x)) / sqrt(1 - beta_k) + sqrt(beta_k) xi,   beta_k = (t_k - t_{k+1}) beta(t_k)
VP process with linear beta (0.1 -> 20, T = 1), start N(0, I); the mixture of peer_common.py.
Usage:  gmm_ddpm_jax.py N D K STEPS [REPEATS=3]
Prints: {"peer": "jax-autograd", "n", "d", "k", "steps", "seconds" (best of REPEATS after compiling)}
"""
import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)

from peer_common import emit, int_args, jax_ddpm_run, random_mixture, time_jax_ddpm, vp_scale  # noqa: E402

n, d, k, steps, repeats = int_args(["N", "D", "K", "STEPS"], [("REPEATS", 3)])
log_w, means, covs, _ = random_mixture(d, k)
log_w, means, covs = jnp.asarray(log_w), jnp.asarray(means), jnp.asarray(covs)
eye = jnp.eye(d)


def log_density(point, t):
    a = vp_scale(t, jnp)
    c = a * a * covs + (1.0 - a * a) * eye                  # (k, d, d)
    diff = point - a * means                                # (k, d)
    quad = jnp.sum(diff * jnp.linalg.solve(c, diff[..., None])[..., 0], axis=-1)
    logdet = jnp.linalg.slogdet(c)[1]
    return jax.scipy.special.logsumexp(log_w - 0.5 * (quad + logdet + d * jnp.log(2.0 * jnp.pi)))


score = jax.vmap(jax.grad(log_density), in_axes=(0, None))


run = jax_ddpm_run(score, n, d, steps)
seconds = time_jax_ddpm(run, repeats)
emit(peer="jax-autograd", n=n, d=d, k=k, steps=steps, seconds=seconds)
