#!/usr/bin/env python3
"""Writes tests/peer/fixtures/conformance/<Class>.json: diffusers' OWN schedulers run on 2e5 particles
in float64, driven by the EXACT prediction of a non-centred Gaussian target (issue 16, "Must show",
agreement with the real library). The Rust side compares gmdiff's exact law of the same configured
scheduler with the recorded sample mean and covariance (z-scores), and its tables with the recorded
model calls.

Nothing of diffusers is copied: it is imported from the virtualenv of tests/peer/README.md (section
"Conformance fixtures (particles)"); the classes, the latent-diffusion base configuration and the named
variations are imported from make_scheduler_fixtures.py (one list for both fixture sets).

Target: N(MU, SIGMA) in d = 4, SIGMA = Q diag(4, 1, 1/4, 1/16) Q^T with Q the normalised 4x4 Hadamard
rotation (every entry 1/2 in magnitude, so every eigenvector mixes all coordinates; all values exact in
binary).

The run (the pipeline convention): g = torch.Generator().manual_seed(seed);
x = init_noise_sigma * randn(n, d, generator=g, float64); set_timesteps(N); for t in timesteps:
x_in = scale_model_input(x, t); out = oracle(x_in, t); x = step(out, t, x, generator=g).prev_sample
(generator only where step takes one; DPMSolverSDE's Brownian tree is seeded through its
noise_sampler_seed attribute, set to the run's seed, its config left unchanged).

The oracle: the prediction a perfectly trained network returns for the timestep it receives.
  * non-EDM classes: alpha_bar from the scheduler's own training table alphas_cumprod (float64 of the
    stored values): integer-valued t -> alphas_cumprod[t]; fractional t -> log sigma_train linearly
    interpolated between floor(t) and ceil(t), sigma_train = sqrt((1 - ab)/ab) (the inverse of
    diffusers' _sigma_to_t), ab = 1/(1 + sigma^2). x_in is the VP state s x0 + c eps, s = sqrt(ab),
    c = sqrt(1 - ab). With A = ab SIGMA + (1 - ab) I and r = x_in - s MU, the exact posterior means are
        x0_hat = MU + s SIGMA A^{-1} r,   eps_hat = c A^{-1} r,   v_hat = s eps_hat - c x0_hat
    (eps_hat = (x_in - s x0_hat)/c rewritten without the division: x_in - s x0_hat = (1 - ab) A^{-1} r).
    At ab = 0 (zero terminal SNR) they are x0_hat = MU, eps_hat = x_in, v_hat = -MU, with no special
    case (A = I); checked against ab = 1e-12 at start-up.
  * EDM classes: t = c_noise(sigma) = precondition_noise(sigma); sigma_m = the inverse of the
    scheduler's own precondition_noise (0.25 log sigma -> exp(4 t), checked at start-up against the
    scheduler's function), x = x_in / c_in(sigma_m) with c_in = precondition_inputs(1, sigma_m),
    D = MU + SIGMA (SIGMA + sigma_m^2 I)^{-1} (x - MU), and F = (D - P(x, 0)) / (P(x, 1) - P(x, 0))
    with P = the scheduler's own precondition_outputs(x, F, sigma_m) (affine in F).

Float64 end to end: EulerDiscrete, EulerAncestralDiscrete, DPMSolverMultistep and EDMEuler cast the
sample to float32 inside step ("upcast"); during step the script maps torch.float32 to torch.float64
in the scheduler module's namespace (the tables, already built by set_timesteps, are left as diffusers
stores them). DPMSolverMultistep's SDE noise is then drawn in float64 from the same generator.

Recorded per configuration: "name" and "config" (scheduler.config of a fresh instance with "_class_name",
as written to scheduler_config.json); per N in STEPS a run: "steps", "n", "seed", "init_noise_sigma",
"sample_mean", "sample_cov" (1/(n-1)), "calls": {"t": the timestep given to the model (float64),
"sigma": scheduler.sigmas[step_index] read before step (null for classes without sigmas), "sigma_in"
(only where it differs from sigma: the sigma of the class's own scale_model_input, see sigma_in()),
"in_scale": x_in / x (only where no in_scale_rule holds)}, "in_scale_rule", "t_vs_sigma_in" (max
|log(sigma_train(t) / sigma_in)| and its call) and "config_changed_by_set_timesteps" where set_timesteps
rewrote the config. A refusal by diffusers (case-level) or a non-finite sample (run-level) is recorded
as "error", with the calls made so far.

Usage: /work/venv-anchors/bin/python -W ignore tests/peer/make_conformance_fixtures.py [--n 200000]
"""

import argparse
import inspect
import json
import math
import pathlib
import platform
import sys
import time
import zlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from make_scheduler_fixtures import CLASSES, LDM, PINNED, VARIATIONS, jsonable, version  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import diffusers  # noqa: E402

STEPS = [10, 25]
N_PARTICLES = 200_000

_H = 0.5 * np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=np.float64)
EIGENVALUES = np.array([4.0, 1.0, 0.25, 0.0625])
MU = np.array([1.0, -2.0, 0.5, 1.5])
SIGMA = _H @ np.diag(EIGENVALUES) @ _H.T
D = 4

# Variations specific to the particle runs (solver options; the table fixtures need none of them).
EXTRA = {
    "fixed_large": {"variance_type": "fixed_large"},
    "zero_snr_trailing_v": {"rescale_betas_zero_snr": True, "timestep_spacing": "trailing", "prediction_type": "v_prediction"},
    "order1": {"solver_order": 1},
    "order3": {"solver_order": 3},
    "no_lower_order_final": {"lower_order_final": False},
    "sde_dpmsolver++": {"algorithm_type": "sde-dpmsolver++"},
    "dpmsolver": {"algorithm_type": "dpmsolver"},
    "bh1": {"solver_type": "bh1"},
    "bh1_sigma_min": {"solver_type": "bh1", "final_sigmas_type": "sigma_min"},
    "dpmsolver_sigma_min": {"algorithm_type": "dpmsolver", "final_sigmas_type": "sigma_min"},
    # PNDM without its Runge-Kutta warm-up (Stable Diffusion v1's PNDM configuration and variations).
    "skip_prk_sd": {"skip_prk_steps": True, "steps_offset": 1, "set_alpha_to_one": False},
    "skip_prk_trailing": {"skip_prk_steps": True, "timestep_spacing": "trailing"},
    "skip_prk_v": {"skip_prk_steps": True, "prediction_type": "v_prediction"},
    "skip_prk_linspace": {"skip_prk_steps": True, "timestep_spacing": "linspace"},
}
NAMED = {**dict(VARIATIONS), **EXTRA}

# Per class: the configurations run (names of VARIATIONS or EXTRA). "default" is the LDM base (the EDM
# classes: their own defaults). Chosen to change the arithmetic: spacing, sigma schedules, final sigma,
# parameterisation, betas, solver order and algorithm; DDIM linspace (diffusers issue 12633) and
# trailing always; the zero-SNR epsilon DDIM run documents its non-finite first step.
RUNS = {
    "DDPMScheduler": ["default", "linspace", "trailing", "v_prediction", "fixed_large", "cosine_betas"],
    "DDIMScheduler": ["default", "linspace", "trailing", "leading_offset1", "no_alpha_to_one", "v_prediction",
                      "zero_snr_trailing_v", "zero_snr_trailing", "cosine_betas"],
    "EulerDiscreteScheduler": ["default", "leading_offset1", "trailing", "karras", "exponential", "final_sigma_min",
                               "v_prediction", "zero_snr_trailing_v"],
    "EulerAncestralDiscreteScheduler": ["default", "trailing", "leading_offset1", "v_prediction", "zero_snr_trailing_v", "linear_betas"],
    "HeunDiscreteScheduler": ["default", "karras", "exponential", "trailing", "v_prediction"],
    "KDPM2DiscreteScheduler": ["default", "karras", "trailing", "v_prediction", "linear_betas"],
    "KDPM2AncestralDiscreteScheduler": ["default", "karras", "trailing", "v_prediction", "cosine_betas"],
    "LMSDiscreteScheduler": ["default", "karras", "exponential", "trailing", "v_prediction"],
    "PNDMScheduler": ["default", "skip_prk", "leading_offset1", "linspace", "trailing", "v_prediction", "skip_prk_sd",
                      "skip_prk_trailing", "skip_prk_v", "skip_prk_linspace"],
    "DPMSolverMultistepScheduler": ["default", "karras", "exponential", "order1", "order3", "no_lower_order_final",
                                    "sde_dpmsolver++", "dpmsolver", "dpmsolver_sigma_min", "final_sigma_min", "v_prediction"],
    "DPMSolverSinglestepScheduler": ["default", "karras", "order1", "order3", "dpmsolver", "dpmsolver_sigma_min",
                                     "final_sigma_min"],
    "DPMSolverSDEScheduler": ["default", "karras", "trailing", "v_prediction"],
    "UniPCMultistepScheduler": ["default", "karras", "order1", "order3", "bh1", "bh1_sigma_min", "final_sigma_min", "v_prediction"],
    "DEISMultistepScheduler": ["default", "karras", "order1", "order3", "no_lower_order_final", "v_prediction"],
    "EDMEulerScheduler": ["default", "edm_exponential", "edm_sigma_data", "final_sigma_min", "v_prediction"],
    "EDMDPMSolverMultistepScheduler": ["default", "edm_exponential", "order3", "sde_dpmsolver++", "no_lower_order_final", "v_prediction"],
}

# Modules whose step casts the sample to float32 (found by reading diffusers 0.42.1; asserted below).
UPCASTING = {"EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler", "DPMSolverMultistepScheduler", "EDMEulerScheduler"}

EDM = {"EDMEulerScheduler", "EDMDPMSolverMultistepScheduler"}


class TorchWith:
    """The torch module with a few attributes replaced (installed in a scheduler module's namespace)."""

    def __init__(self, **over):
        self.__dict__.update(over)

    def __getattr__(self, name):
        return getattr(torch, name)


# --------------------------------------------------------------------------------------------------
# The oracle


def vp_predictions(x_in, ab):
    """Exact (x0_hat, eps_hat, v_hat) for x_in = sqrt(ab) x0 + sqrt(1 - ab) eps, x0 ~ N(MU, SIGMA)."""
    s, c = math.sqrt(ab), math.sqrt(1.0 - ab)
    a_inv = np.linalg.solve(ab * SIGMA + (1.0 - ab) * np.eye(D), np.eye(D))  # symmetric
    mu = torch.from_numpy(MU)
    r = x_in - s * mu
    ar = r @ torch.from_numpy(a_inv)  # rows: A^{-1} r (A^{-1} symmetric)
    x0 = mu + s * (ar @ torch.from_numpy(SIGMA))
    eps = c * ar
    v = s * eps - c * x0
    return x0, eps, v


def alpha_bar_of_t(table, t):
    """alpha_bar at model timestep t on the training table (float64), see the module docstring."""
    lo = math.floor(t)
    if t == lo:
        return float(table[int(t)])
    hi = lo + 1
    w = t - lo
    ls = [0.5 * math.log((1.0 - table[i]) / table[i]) if table[i] > 0 else math.inf for i in (lo, hi)]
    log_sigma = (1.0 - w) * ls[0] + w * ls[1]
    return 1.0 / (1.0 + math.exp(2.0 * log_sigma))


def edm_sigma_of_t(sched, t):
    """The inverse of the scheduler's precondition_noise (0.25 log sigma in diffusers 0.42.1)."""
    return math.exp(4.0 * t)


def oracle(sched, name, x_in, t):
    if name in EDM:
        sm = edm_sigma_of_t(sched, t)
        smt = torch.tensor(sm, dtype=torch.float64)
        c_in = float(sched.precondition_inputs(torch.ones((), dtype=torch.float64), smt))
        x = x_in / c_in
        mu = torch.from_numpy(MU)
        k = np.linalg.solve(SIGMA + sm * sm * np.eye(D), SIGMA)  # (SIGMA + s^2 I)^{-1} SIGMA = K^T of the gain
        d = mu + (x - mu) @ torch.from_numpy(k)
        p0 = sched.precondition_outputs(x, torch.zeros_like(x), smt)
        p1 = sched.precondition_outputs(x, torch.ones_like(x), smt)
        return (d - p0) / (p1 - p0)
    ab = alpha_bar_of_t(sched._conf_table, t)
    x0, eps, v = vp_predictions(x_in, ab)
    return {"epsilon": eps, "sample": x0, "v_prediction": v}[sched.config.prediction_type]


def self_checks():
    """The oracle's limits and identities, checked numerically (printed)."""
    g = torch.Generator().manual_seed(7)
    x = torch.randn((5, D), generator=g, dtype=torch.float64)
    x0, eps, v = vp_predictions(x, 0.0)
    x0b, epsb, vb = vp_predictions(x, 1e-12)
    mu = torch.from_numpy(MU)
    lim = max(float((x0 - mu).abs().max()), float((eps - x).abs().max()), float((v + mu).abs().max()))
    near = max(float((x0 - x0b).abs().max()), float((eps - epsb).abs().max()), float((v - vb).abs().max()))
    print(f"oracle ab=0: |x0-mu|,|eps-x_in|,|v+mu| <= {lim:.1e}; ab=0 vs 1e-12: {near:.1e} (O(sqrt(ab)) = 1e-6 expected)")
    assert lim == 0.0 and near < 1e-5
    # identity x_in = s x0_hat + c eps_hat (the exact posterior means satisfy it)
    ab = 0.3
    x0, eps, v = vp_predictions(x, ab)
    res = float((math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps - x).abs().max())
    print(f"oracle ab=0.3: |s x0 + c eps - x_in| = {res:.1e}")
    assert res < 1e-13
    # Monte Carlo: E[x0 | x_in] by regression on joint samples (independent route for the posterior)
    n = 400_000
    L = np.linalg.cholesky(SIGMA)
    x0s = MU + np.random.default_rng(1).standard_normal((n, D)) @ L.T
    es = np.random.default_rng(2).standard_normal((n, D))
    xin = math.sqrt(ab) * x0s + math.sqrt(1 - ab) * es
    pred = vp_predictions(torch.from_numpy(xin), ab)[0].numpy()
    resid = x0s - pred  # must be uncorrelated with x_in and mean zero
    cc = np.cov(np.hstack([resid, xin]).T)[:D, D:]
    print(f"oracle Monte Carlo (n={n}): max |cov(x0 - x0_hat, x_in)| = {np.abs(cc).max():.1e}, |mean resid| = {np.abs(resid.mean(0)).max():.1e} (s.e. ~ {1 / math.sqrt(n):.0e})")
    assert np.abs(cc).max() < 5e-3 and np.abs(resid.mean(0)).max() < 5e-3
    # EDM: precondition_noise's inverse
    s = diffusers.EDMEulerScheduler()
    for sig in (0.002, 1.0, 80.0):
        tt = float(s.precondition_noise(torch.tensor(sig, dtype=torch.float64)))
        assert abs(edm_sigma_of_t(s, tt) / sig - 1) < 1e-14, (sig, tt)
    print("EDM: exp(4 precondition_noise(sigma)) = sigma to 1e-14 at sigma = 0.002, 1, 80")


# --------------------------------------------------------------------------------------------------
# Runs


def seed_of(name, vname, n_steps):
    return zlib.crc32(f"{name}/{vname}/{n_steps}".encode()) & 0x7FFFFFFF


def run(name, kwargs, n_steps, n, seed):
    cls = getattr(diffusers, name)
    sched = cls(**kwargs)
    rec = {"steps": n_steps, "n": n, "seed": seed}
    calls = {"t": [], "sigma": [], "sigma_in": [], "in_scale": []}
    rec["calls"] = calls
    before = jsonable(dict(sched.config))
    try:
        sched.set_timesteps(n_steps)
    except Exception as e:
        rec["error"] = f"{type(e).__name__} in set_timesteps: {e}"
        return rec
    ac = getattr(sched, "alphas_cumprod", None)
    sched._conf_table = None if ac is None else torch.as_tensor(ac).to(torch.float64).numpy()
    if name == "DPMSolverSDEScheduler":
        sched.noise_sampler_seed = seed
        rec["noise_sampler_seed"] = seed
    ins = sched.init_noise_sigma
    ins = float(ins.item() if torch.is_tensor(ins) else ins)
    rec["init_noise_sigma"] = ins
    g = torch.Generator().manual_seed(seed)
    x = ins * torch.randn((n, D), generator=g, dtype=torch.float64)
    takes_gen = "generator" in inspect.signature(sched.step).parameters
    mod = sys.modules[cls.__module__]
    saved = mod.torch
    has_sigmas = getattr(sched, "sigmas", None) is not None
    try:
        for k, t in enumerate(sched.timesteps):
            x_in = sched.scale_model_input(x, t)
            if sched_step_index(sched) is None and hasattr(sched, "_init_step_index"):
                sched._init_step_index(t)  # what step does first; read the sigma it will use
            tf = float(t)
            calls["t"].append(tf)
            calls["sigma"].append(float(sched.sigmas[sched.step_index]) if has_sigmas else None)
            calls["sigma_in"].append(sigma_in(sched) if has_sigmas else None)
            calls["in_scale"].append(float((x_in[:, 0] / x[:, 0]).median()) if x_in is not x else 1.0)
            out = oracle(sched, name, x_in, tf)
            kw = {"generator": g} if takes_gen else {}
            mod.torch = TorchWith(float32=torch.float64)
            try:
                x = sched.step(out, t, x, **kw).prev_sample
            finally:
                mod.torch = saved
            assert x.dtype == torch.float64, x.dtype
            if not torch.isfinite(x).all():
                rec["error"] = f"non-finite output at call {k} (t = {tf})"
                break
    except Exception as e:
        rec["error"] = f"{type(e).__name__} at call {len(calls['t']) - 1}: {e}"
    after = jsonable(dict(sched.config))
    changed = {k: v for k, v in after.items() if before.get(k, "<absent>") != v}
    if changed:
        rec["config_changed_by_set_timesteps"] = changed
    rec["in_scale_rule"] = in_scale_rule(sched, name, calls)
    rec["t_vs_sigma_in"] = t_sigma_mismatch(sched, name, calls)
    if rec["in_scale_rule"] is not None:
        del calls["in_scale"]
    if calls["sigma_in"] == calls["sigma"]:
        del calls["sigma_in"]
    if "error" not in rec:
        rec["sample_mean"] = x.mean(0).tolist()
        rec["sample_cov"] = torch.cov(x.T).tolist()
    return rec


def sched_step_index(s):
    return getattr(s, "step_index", None)


def sigma_in(sched):
    """The sigma at which the scheduler scales the model input at this call, read from its state as its own
    scale_model_input does (diffusers 0.42.1): sigmas[step_index], or in the second stage
    KDPM2: sigmas_interpol[step_index], KDPM2 ancestral: sigmas_interpol[step_index - 1],
    DPMSolverSDE: mid_point_sigma."""
    i = sched.step_index
    if not getattr(sched, "state_in_first_order", True):
        if getattr(sched, "sigmas_interpol", None) is not None:
            lag = 1 if type(sched).__name__ == "KDPM2AncestralDiscreteScheduler" else 0
            return float(sched.sigmas_interpol[i - lag])
        if getattr(sched, "mid_point_sigma", None) is not None:
            return float(sched.mid_point_sigma)
    return float(sched.sigmas[i])


def in_scale_rule(sched, name, calls):
    """A rule giving in_scale from sigma_in at every call to 1e-6 relative (diffusers evaluates it in float32),
    or None (then the list is kept)."""
    sc = calls["in_scale"]
    if all(v == 1.0 for v in sc):
        return "1 (scale_model_input is the identity)"
    if any(v is None for v in calls["sigma_in"]):
        return None
    if name in EDM:
        sd = sched.config.sigma_data
        rule, f = "1/sqrt(sigma^2 + sigma_data^2)", lambda s: 1.0 / math.sqrt(s * s + sd * sd)
    else:
        rule, f = "1/sqrt(sigma^2 + 1)", lambda s: 1.0 / math.sqrt(s * s + 1.0)
    if all(abs(v / f(s) - 1.0) < 1e-6 for v, s in zip(sc, calls["sigma_in"])):
        return rule + " of sigma_in, in float32 arithmetic (relative 1e-6)"
    return None


def t_sigma_mismatch(sched, name, calls):
    """How far the noise level of the model's t is from the scheduler's own sigma_in: max over the calls of
    |log(sigma_of_t / sigma_in)|, sigma_of_t = sigma_train(t) on the training table (fractional t: log-linear)
    or exp(4 t) (EDM). None for classes without sigmas."""
    if not calls["t"] or calls["sigma_in"][0] is None:
        return None
    worst, at = 0.0, None
    for k, (t, s) in enumerate(zip(calls["t"], calls["sigma_in"])):
        if name in EDM:
            a = math.exp(4 * t)
        else:
            ab = alpha_bar_of_t(sched._conf_table, t)
            a = math.sqrt((1 - ab) / ab) if ab > 0 else math.inf
        if a == s:
            continue
        e = abs(math.log(a / s)) if 0 < a < math.inf and 0 < s < math.inf else math.inf
        if e > worst:
            worst, at = e, k
    return {"max_abs_log_ratio": worst, "call": at}


# --------------------------------------------------------------------------------------------------
# Sanity checks: the exact mean/covariance of two configured samplers, propagated independently


def exact_ddim(n_steps):
    """DDIM eta = 0 (LDM base, leading spacing, set_alpha_to_one) propagated exactly on (mean, cov)."""
    s = diffusers.DDIMScheduler(**{k: v for k, v in LDM.items()})
    s.set_timesteps(n_steps)
    ac = s.alphas_cumprod.to(torch.float64).numpy()
    ts = [int(t) for t in s.timesteps]
    m, C = np.zeros(D), np.eye(D)
    for i, t in enumerate(ts):
        ab = ac[t]
        ab_prev = ac[ts[i + 1]] if i + 1 < len(ts) else 1.0
        sq, cq = math.sqrt(ab), math.sqrt(1 - ab)
        ainv = np.linalg.inv(ab * SIGMA + (1 - ab) * np.eye(D))
        # x0 = MU + sq SIGMA A^{-1}(x - sq MU); eps = cq A^{-1}(x - sq MU); x' = sqrt(ab') x0 + sqrt(1-ab') eps
        M = math.sqrt(ab_prev) * sq * SIGMA @ ainv + math.sqrt(1 - ab_prev) * cq * ainv
        m = math.sqrt(ab_prev) * MU + M @ (m - sq * MU)
        C = M @ C @ M.T
    return m, C


def exact_edm_euler(n_steps):
    """EDMEuler default: x' = x + (s' - s)(x - D(x, s))/s from N(0, init^2 I), exactly on (mean, cov)."""
    s = diffusers.EDMEulerScheduler()
    s.set_timesteps(n_steps)
    sig = s.sigmas.to(torch.float64).numpy()
    m, C = np.zeros(D), float(s.init_noise_sigma) ** 2 * np.eye(D)
    for i in range(n_steps):
        a, b = sig[i], sig[i + 1]
        K = SIGMA @ np.linalg.inv(SIGMA + a * a * np.eye(D))
        # D(x) = MU + K (x - MU); x' = x + (b - a)/a (x - D(x)) = x + (b-a)/a (I - K)(x - MU)
        M = np.eye(D) + (b - a) / a * (np.eye(D) - K)
        m = MU + M @ (m - MU)
        C = M @ C @ M.T
    return m, C


def z_scores(rec, m, C):
    n = rec["n"]
    sm, sc = np.array(rec["sample_mean"]), np.array(rec["sample_cov"])
    zm = (sm - m) / np.sqrt(np.diag(C) / n)
    sd = np.sqrt((C * C + np.outer(np.diag(C), np.diag(C))) / (n - 1))  # Wishart s.d. of each entry
    zc = (sc - C) / sd
    return float(np.abs(zm).max()), float(np.abs(zc).max())


def sanity(n):
    for label, name, exact in (("DDIM eta=0 LDM default", "DDIMScheduler", exact_ddim), ("EDMEuler default", "EDMEulerScheduler", exact_edm_euler)):
        kwargs = {k: v for k, v in LDM.items() if k in inspect.signature(getattr(diffusers, name).__init__).parameters}
        rec = run(name, kwargs, 25, n, seed_of(name, "default", 25))
        m, C = exact(25)
        zm, zc = z_scores(rec, m, C)
        se = np.sqrt(np.diag(SIGMA) / n)
        off_mu = np.abs((np.array(rec["sample_mean"]) - MU) / se)
        print(f"sanity {label}, N=25: vs its exact propagated law max|z| mean {zm:.2f}, cov {zc:.2f}; "
              f"vs the target: |mean - mu|/s.e. = {np.array2string(off_mu, precision=1)}, exact mean - mu = {np.array2string(m - MU, precision=4)}")
        assert zm < 5 and zc < 5, "the particle run disagrees with the exact propagation: the oracle or the harness is wrong"


# --------------------------------------------------------------------------------------------------


def class_fixture(name, n):
    cls = getattr(diffusers, name)
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    base = {k: v for k, v in LDM.items() if k in params}
    cases = []
    for vname in RUNS[name]:
        var = NAMED[vname]
        if not set(var) <= params:
            raise SystemExit(f"{name}: variation {vname} has keys {set(var) - params} the class does not accept")
        kwargs = {**base, **var}
        case = {"name": vname}
        try:
            case["config"] = jsonable(dict(cls(**kwargs).config))
            case["config"]["_class_name"] = name
        except Exception as e:
            case["error"] = f"{type(e).__name__}: {e}"
            cases.append(case)
            continue
        case["runs"] = []
        for n_steps in STEPS:
            t0 = time.time()
            rec = run(name, kwargs, n_steps, n, seed_of(name, vname, n_steps))
            case["runs"].append(rec)
            msg = rec.get("error", "ok")
            mm = rec.get("t_vs_sigma_in")
            if mm is not None and mm["max_abs_log_ratio"] > 1e-6:
                msg += f"  t vs sigma_in: max |log ratio| {mm['max_abs_log_ratio']:.2e} at call {mm['call']}"
            if rec.get("config_changed_by_set_timesteps"):
                msg += f"  set_timesteps changed {rec['config_changed_by_set_timesteps']}"
            if rec.get("in_scale_rule") is None:
                msg += "  (in_scale kept)"
            if "sample_mean" in rec:
                msg += "  |mean-mu|max %.3f" % float(np.abs(np.array(rec["sample_mean"]) - MU).max())
            print(f"  {name} {vname} N={n_steps}: {len(rec['calls']['t'])} calls, {time.time() - t0:.1f}s, {msg}", file=sys.stderr)
        cases.append(case)
    return {
        "class": name,
        "anchor": {k: version(k).split("+")[0] for k in PINNED},
        "target": {"mu": MU.tolist(), "sigma": SIGMA.tolist(), "eigenvalues": EIGENVALUES.tolist(), "rotation": _H.tolist()},
        "start": "x_T = init_noise_sigma * torch.randn((n, 4), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)",
        "oracle": ("non-EDM: ab from alphas_cumprod at the model's t (fractional t: log sigma interpolated), "
                   "x_in = sqrt(ab) x0 + sqrt(1-ab) eps, exact posterior mean of the prediction_type target; "
                   "EDM: sigma = exp(4 t), D = exact VE denoiser at x_in / c_in(sigma), F solves precondition_outputs = D"),
        "float64": "step's float32 upcast of the sample mapped to float64" if name in UPCASTING else None,
        "steps": STEPS,
        "cases": cases,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "fixtures" / "conformance"))
    ap.add_argument("--n", type=int, default=N_PARTICLES)
    ap.add_argument("--only", nargs="*", help="classes to (re)write; default all")
    args = ap.parse_args()
    for dist, want in PINNED.items():
        got = version(dist).split("+")[0]
        if got != want:
            sys.exit(f"{dist} {got} installed, the fixtures pin {want}")
    torch.set_num_threads(1)
    for name in CLASSES:
        src = inspect.getsource(sys.modules[getattr(diffusers, name).__module__])
        assert ("sample = sample.to(torch.float32)" in src) == (name in UPCASTING), name
    self_checks()
    sanity(args.n)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for name in args.only or CLASSES:
        obj = class_fixture(name, args.n)
        text = json.dumps(obj, separators=(",", ":")) + "\n"
        tmp = out / f".{name}.json.tmp"
        tmp.write_text(text)
        tmp.replace(out / f"{name}.json")
        total += len(text)
        errs = [(c["name"], r["steps"], r["error"]) for c in obj["cases"] for r in c.get("runs", []) if "error" in r]
        errs += [(c["name"], None, c["error"]) for c in obj["cases"] if "error" in c]
        print(f"{name}: {len(obj['cases'])} configurations, {len(text)} bytes, errors: {errs}", file=sys.stderr)
    print(f"total {total} bytes (python {platform.python_version()})", file=sys.stderr)


if __name__ == "__main__":
    main()
