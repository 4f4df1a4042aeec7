"""Pieces shared by the peer timing scripts of this directory (imported, not run).

The peers time what a user of Python would write instead of calling gmdiff. Each script prints
exactly one JSON line on stdout; `cargo xtask bench <workload> --peer PYTHON` reads its "seconds"
field (or "w2_<method>_s" for ot_pot.py).

Workload conventions, the same as `gmdiff::testing::{peer_mixture, peer_points}` (the same family
of inputs; not the same draws, since numpy's generator is not ChaCha8):
  * k-component mixture in dimension d: weights U(0, 1) normalised to sum 1; means 3 N(0, I_d);
    covariances A A^T / d + 0.1 I with A a d x d matrix of independent N(0, 1) entries;
  * evaluation points 2 N(0, I_d);
  * the score workloads use the fixed noise level x_t = 0.8 x_0 + 0.6 z;
  * the sampling workloads use the VP process with linear beta (0.1 -> 20, T = 1) on the uniform
    grid from T to 1e-3, started from N(0, I).
"""
import json
import sys
import time

import numpy as np

SCORE_A, SCORE_B = 0.8, 0.6
BETA_MIN, BETA_MAX, HORIZON, T_MIN = 0.1, 20.0, 1.0, 1e-3


def int_args(names, optional=()):
    """Positional integer arguments `names`, then optional ones given as (name, default)."""
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) < len(names):
        usage = " ".join(names + [f"[{n}]" for n, _ in optional])
        sys.exit(f"usage: {sys.argv[0]} {usage}")
    values = [int(a) for a in args[: len(names)]]
    for i, (_, default) in enumerate(optional):
        j = len(names) + i
        values.append(int(args[j]) if j < len(args) else default)
    return values


def random_mixture(d, k, seed=0):
    """(log weights (k,), means (k, d), covariances (k, d, d), the generator) of the workload."""
    rng = np.random.default_rng(seed)
    w = rng.random(k)
    w /= w.sum()
    means = 3.0 * rng.standard_normal((k, d))
    a = rng.standard_normal((k, d, d))
    covs = a @ np.swapaxes(a, 1, 2) / d + 0.1 * np.eye(d)
    return np.log(w), means, covs, rng


def diffused(means, covs, a, b):
    """Means and covariances of the mixture at x_t = a x_0 + b z (the weights do not change)."""
    d = means.shape[1]
    return a * means, a * a * covs + b * b * np.eye(d)


def precisions(covs):
    """Precision matrices and log-determinants from a Cholesky factorisation of each covariance."""
    chol = np.linalg.cholesky(covs)
    inv_chol = np.linalg.inv(chol)
    prec = np.swapaxes(inv_chol, 1, 2) @ inv_chol
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    return prec, logdet


def vp_beta(t):
    return BETA_MIN + (BETA_MAX - BETA_MIN) * t / HORIZON


def vp_scale(t, xp=np):
    """a_t = exp(-B(t)/2), B(t) = int_0^t beta."""
    return xp.exp(-0.5 * (BETA_MIN * t + 0.5 * (BETA_MAX - BETA_MIN) * t * t / HORIZON))


def ddpm_rates(steps):
    """Grid times t_0 = T > ... > t_S = 1e-3 and the DDPM rates beta_k = h beta(t_k), as gmdiff's
    `Sampler::Ddpm` on `Schedule::uniform_vp`. Exits when a rate reaches 1 (too few steps)."""
    ts = np.linspace(HORIZON, T_MIN, steps + 1)
    rates = (ts[:-1] - ts[1:]) * vp_beta(ts[:-1])
    if rates.max() >= 1.0:
        sys.exit(f"error: {steps} steps give a DDPM rate beta_0 = {rates.max():.4g} >= 1; use more steps")
    return ts, rates


def best_seconds(run, repeats):
    """Runs `run` once untimed (compilation, caches), then returns the best of `repeats` timings."""
    run()
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def emit(**fields):
    print(json.dumps(fields))


def jax_ddpm_run(score, n, d, steps):
    """A jit-compiled function key -> particles: the DDPM run of `ddpm_rates(steps)` from N(0, I)
    with `score(x, t)` (batched over the rows of x), its steps in lax.scan. Call
    `jax.config.update("jax_enable_x64", True)` before."""
    import jax
    import jax.numpy as jnp

    ts, rates = (jnp.asarray(v) for v in ddpm_rates(steps))

    def step(carry, i):
        x, key = carry
        key, noise = jax.random.split(key)
        beta = rates[i]
        x = (x + beta * score(x, ts[i])) / jnp.sqrt(1.0 - beta)
        x = x + jnp.sqrt(beta) * jax.random.normal(noise, x.shape)
        return (x, key), None

    @jax.jit
    def run(key):
        key, start = jax.random.split(key)
        x0 = jax.random.normal(start, (n, d))
        (x, _), _ = jax.lax.scan(step, (x0, key), jnp.arange(steps))
        return x

    return run


def time_jax_ddpm(run, repeats):
    """Best of `repeats` runs after a compiling one, each with a fresh key."""
    import jax

    keys = iter(range(1, 1 << 30))
    return best_seconds(lambda: run(jax.random.PRNGKey(next(keys))).block_until_ready(), repeats)
