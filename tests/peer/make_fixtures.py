#!/usr/bin/env python3
"""Writes tests/peer/fixtures/*.json: runs of the ANCHORS' OWN samplers (k-diffusion, diffusers) on a
Gaussian denoiser, replayed and checked by tests/peer_samplers.rs (issue 13).

Nothing of the anchors is copied here: the script imports them from a throwaway virtualenv (see
tests/peer/README.md for the versions and the command). Everything runs in float64.

Conventions (k-diffusion's, see docs/solvers.md): gmdiff's path is x = a x0 + b z; k-diffusion works on
x~ = x/a at sigma = b/a. The data are N(mu, Sigma), so the exact denoiser is
    D(x~, sigma) = mu + Sigma (Sigma + sigma^2 I)^{-1} (x~ - mu).
A k-diffusion run starts at x~_0 = x_start/a_0 and its output x~ is stored as x_final = a_last x~
(gmdiff's x space). diffusers works in x directly on a VP path (a = 1/sqrt(1 + sigma^2), b = sigma a);
its model returns eps^ = (x - a D(x/a, sigma))/b at the scheduler's own sigma of the current step.

Sigma grids (gmdiff's paths, the same formulas as crates/process/src/grid.rs):
  * "edm": a = 1, b = t, sigma = t. Karras et al. (2022) eq. 5 with sigma_max = 80, sigma_min = 0.002,
    rho = 7 on N points: sigma_k = (sigma_max^(1/rho) + k/(N-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho,
    end points set exactly (as TimeGrid::karras does), then a final 0 (k-diffusion's append_zero).
  * "vp": linear VP, beta_min = 0.1, beta_max = 20: B(t) = 0.1 t + 9.95 t^2, a = exp(-B/2),
    b = sqrt(-expm1(-B)), sigma = b/a = sqrt(expm1(B)); uniform times t_k = 1 - (1 - 1e-3) k/S
    (t_S = 1e-3 exactly, as TimeGrid::uniform), with or without a final sigma = 0.
  * diffusers: the scheduler's own sigmas after set_timesteps (its default linear betas 1e-4..0.02 over
    1000 train steps, "linspace" spacing), recorded as used (float32 values, exactly representable).

Noise replay: every standard normal the anchor draws comes from one tape (k-diffusion's noise_sampler
argument, and torch.randn_like patched in the k_diffusion.sampling namespace for sample_euler/heun/dpm_2).
A draw is "used" when perturbing it by 1e3 changes the output (bitwise); unused draws (k-diffusion's
sample_heun draws at every step even where gamma = 0) are dropped. The fixture's "noises" are the used
draws, in order: exactly the xi that gmdiff's sampler must draw (it draws only where the coefficient is
non-zero). Particle fixtures (the Brownian-tree samplers) run the anchor with its own noise on n
particles and store the sample mean and covariance.

Usage: /work/venv-anchors/bin/python tests/peer/make_fixtures.py [--out tests/peer/fixtures]
"""

import argparse
import importlib
import importlib.util
import inspect
import json
import math
import pathlib
import sys
import types

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

# --------------------------------------------------------------------------------------------------
# Loading the anchors


def load_k_diffusion_sampling():
    """k_diffusion.sampling without the package __init__ (which imports models, CLIP, clean-fid...).

    k_diffusion/utils.py imports torchvision.transforms.functional at module level for its image
    helpers, which sampling never calls; when torchvision is absent an empty placeholder stands in.
    """
    spec = importlib.util.find_spec("k_diffusion")
    if spec is None:
        raise SystemExit("k-diffusion is not installed (pip install --no-deps k-diffusion)")
    if importlib.util.find_spec("torchvision") is None:
        tv = types.ModuleType("torchvision")
        tv.__path__ = []
        tr = types.ModuleType("torchvision.transforms")
        tr.__path__ = []
        tr.functional = types.ModuleType("torchvision.transforms.functional")
        tv.transforms = tr
        sys.modules.update({"torchvision": tv, "torchvision.transforms": tr, "torchvision.transforms.functional": tr.functional})
    pkg = types.ModuleType("k_diffusion")
    pkg.__path__ = list(spec.submodule_search_locations)
    sys.modules["k_diffusion"] = pkg
    return importlib.import_module("k_diffusion.sampling")


def version(dist):
    from importlib.metadata import version as v

    return v(dist)


import diffusers  # noqa: E402  (before the placeholder below: diffusers probes for torchvision)

K = load_k_diffusion_sampling()

KV = version("k-diffusion")
DV = version("diffusers")


class TorchWith:
    """The torch module with a few attributes replaced (installed in an anchor module's namespace)."""

    def __init__(self, **over):
        self.__dict__.update(over)

    def __getattr__(self, name):
        return getattr(torch, name)


# --------------------------------------------------------------------------------------------------
# Data, denoiser, model wrappers


class Gauss:
    def __init__(self, mean, cov):
        self.mean = torch.tensor(mean)
        self.cov = torch.tensor(cov)
        self.d = len(mean)
        assert torch.linalg.eigvalsh(self.cov).min() > 0

    def denoise(self, xt, sigma):
        """D(x~, sigma) = mu + Sigma (Sigma + sigma^2 I)^{-1} (x~ - mu), rows of xt."""
        a = self.cov + sigma * sigma * torch.eye(self.d)
        m = torch.linalg.solve(a, self.cov)  # (Sigma + s^2)^{-1} Sigma = Sigma (Sigma + s^2)^{-1}
        return self.mean + (xt - self.mean) @ m.T


G3 = Gauss([1.0, -0.5, 0.25], [[1.0, 0.3, -0.2], [0.3, 0.5, 0.1], [-0.2, 0.1, 0.25]])
G2 = Gauss([-1.0, 2.0], [[0.4, -0.15], [-0.15, 0.2]])


class KModel:
    """k-diffusion's model(x~, sigma * s_in) -> D, counting the calls."""

    def __init__(self, g):
        self.g, self.calls = g, 0

    def __call__(self, x, sigma):
        self.calls += 1
        s = sigma.reshape(-1)
        assert torch.all(s == s[0])
        return self.g.denoise(x, s[0])


class Tape:
    """Standard normals: fresh from a seeded generator (record mode) or replayed from a list."""

    def __init__(self, seed=None, replay=None, bump=None):
        self.gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.replay, self.bump, self.draws = replay, bump, []

    def next(self, shape):
        j = len(self.draws)
        if self.replay is None:
            xi = torch.randn(shape, generator=self.gen)
        else:
            xi = self.replay[j].clone()
            if self.bump == j:
                xi = xi + 1e3
        self.draws.append(xi)
        return xi


# --------------------------------------------------------------------------------------------------
# Grids


def karras(n, smin=0.002, smax=80.0, rho=7.0):
    hi, lo = smax ** (1 / rho), smin ** (1 / rho)
    s = [(hi + (k / (n - 1)) * (lo - hi)) ** rho for k in range(n)]
    s[0], s[-1] = smax, smin
    return s + [0.0]


def vp_sigma(t):
    return math.sqrt(math.expm1(0.1 * t + 9.95 * t * t))


def vp_uniform(steps, eps=1e-3, zero=True):
    ts = [1.0 - (1.0 - eps) * (k / steps) for k in range(steps + 1)]
    ts[-1] = eps
    s = [vp_sigma(t) for t in ts]
    return s + [0.0] if zero else s


def a_of(path, sigma):
    return 1.0 if path == "edm" else 1.0 / math.sqrt(1.0 + sigma * sigma)


# --------------------------------------------------------------------------------------------------
# k-diffusion runs


class BrownianFromIncrements:
    """A noise_sampler for sample_dpmpp_sde with the law of its default Brownian tree in sigma, built
    from independent normals of the tape. Per step the anchor asks for (sigma_t, sigma_s) and then
    (sigma_t, sigma_next), sigma_next < sigma_s < sigma_t, i.e. the normalised increments of ONE
    Brownian motion W over [sigma_s, sigma_t] and over [sigma_next, sigma_t]. With the tape's
    xi_a = W-increment on [sigma_s, sigma_t] / sqrt(sigma_t - sigma_s) and
    xi_b = W-increment on [sigma_next, sigma_s] / sqrt(sigma_s - sigma_next), drawn in that order:
      first call  -> xi_a,
      second call -> (sqrt(sigma_t - sigma_s) xi_a + sqrt(sigma_s - sigma_next) xi_b) / sqrt(sigma_t - sigma_next).
    """

    def __init__(self, tape, shape):
        self.tape, self.shape, self.first = tape, shape, None

    def __call__(self, sigma, sigma_next):
        if self.first is None:
            self.first = (sigma, sigma_next, self.tape.next(self.shape))
            return self.first[2]
        st, ss, xa = self.first
        self.first = None
        assert sigma == st and sigma_next < ss < st
        xb = self.tape.next(self.shape)
        return (torch.sqrt(st - ss) * xa + torch.sqrt(ss - sigma_next) * xb) / torch.sqrt(st - sigma_next)


def run_k(fn, g, xt0, sigmas, kwargs, tape, brownian=False):
    """One run of k-diffusion's `fn`, every normal from `tape`; returns (x~_final, model calls).
    `brownian`: sample_dpmpp_sde's overlapping increments through BrownianFromIncrements."""
    model = KModel(g)
    kw = dict(kwargs)
    if brownian:
        kw["noise_sampler"] = BrownianFromIncrements(tape, xt0.shape)
    elif "noise_sampler" in inspect.signature(fn).parameters:
        kw["noise_sampler"] = lambda s, sn: tape.next(xt0.shape)
    saved = K.torch
    K.torch = TorchWith(randn_like=lambda x: tape.next(x.shape))
    try:
        out = fn(model, xt0.clone(), torch.tensor(sigmas), disable=True, **kw)
    finally:
        K.torch = saved
    return out, model.calls


def replay_case(name, fn, path, sigmas, g, kwargs, seed, brownian=False):
    a0 = a_of(path, sigmas[0])
    gen = torch.Generator().manual_seed(seed)
    std = 80.0 if path == "edm" else 1.0  # gmdiff's standard start N(0, start_std^2 I)
    x_start = std * torch.randn((1, g.d), generator=gen)
    xt0 = x_start / a0
    first = Tape(seed=seed + 1)
    out, calls = run_k(fn, g, xt0, sigmas, kwargs, first, brownian)
    assert torch.isfinite(out).all(), name
    draws = first.draws
    again, _ = run_k(fn, g, xt0, sigmas, kwargs, Tape(replay=draws), brownian)
    assert torch.equal(again, out), f"{name}: replay is not deterministic"
    used = []
    for j in range(len(draws)):
        bumped, _ = run_k(fn, g, xt0, sigmas, kwargs, Tape(replay=draws, bump=j), brownian)
        used.append(not torch.equal(bumped, out))
    noises = [draws[j].reshape(-1).tolist() for j in range(len(draws)) if used[j]]
    x_final = (a_of(path, sigmas[-1]) * out).reshape(-1).tolist()
    return {
        "x_start": x_start.reshape(-1).tolist(),
        "noises": noises,
        "draws_total": len(draws),
        "x_final": x_final,
        "score_evals": calls,
    }


def particle_case(fn, path, sigmas, g, kwargs, seed, n, brownian=False):
    """n particles from gmdiff's standard start, the anchor's own noise (seeded)."""
    torch.manual_seed(seed)
    a0 = a_of(path, sigmas[0])
    std = 80.0 if path == "edm" else 1.0
    x_start = std * torch.randn((n, g.d))
    xt0 = x_start / a0
    kw = dict(kwargs)
    sig = torch.tensor(sigmas)
    if brownian:
        # k-diffusion's own default, BrownianTreeNoiseSampler(x, sigma_min, sigma_max), with a seed.
        smin, smax = sig[sig > 0].min(), sig.max()
        kw["noise_sampler"] = K.BrownianTreeNoiseSampler(xt0, smin, smax, seed=seed + 1)
    model = KModel(g)
    out = fn(model, xt0, sig, disable=True, **kw)
    x = a_of(path, sigmas[-1]) * out
    assert torch.isfinite(x).all()
    mean = x.mean(0)
    cov = torch.cov(x.T)
    return {"n": n, "seed": seed, "mean": mean.tolist(), "cov": cov.tolist(), "score_evals": model.calls}


# --------------------------------------------------------------------------------------------------
# diffusers runs (x space, VP)


def run_diffusers(cls, config, steps, g, seed):
    sched = cls(**config)
    sched.set_timesteps(steps)
    # set_timesteps stores float32 sigmas; run the steps on their exact float64 values.
    sched.sigmas = sched.sigmas.to(torch.float64)
    sigmas = sched.sigmas.tolist()
    gen = torch.Generator().manual_seed(seed)
    x_start = torch.randn((1, g.d), generator=gen)
    x = x_start.clone()
    calls = 0
    mod = sys.modules[cls.__module__]
    saved = mod.torch
    # DPMSolverMultistepScheduler.step casts the sample to float32 ("upcast"); keep float64.
    mod.torch = TorchWith(float32=torch.float64)
    try:
        for i, t in enumerate(sched.timesteps):
            s = sched.sigmas[i]
            a = 1.0 / torch.sqrt(1.0 + s * s)
            b = s * a
            d = g.denoise(x / a, s)
            eps = (x - a * d) / b
            calls += 1
            x = sched.step(eps, t, x).prev_sample
            assert sched.step_index == i + 1
    finally:
        mod.torch = saved
    assert x.dtype == torch.float64
    return sigmas, x_start, x, calls


# --------------------------------------------------------------------------------------------------
# The cases


def kd(function):
    return f"k-diffusion {KV} sampling.{function}"


def k_cases():
    edm = karras(8)  # 7 steps 80 -> 0.002, then the step to 0: 8 steps
    vp0 = vp_uniform(8, zero=True)
    vp = vp_uniform(8, zero=False)
    C = []

    def add(tag, function, sampler, options, anchor_options, path, sigmas, g=G3):
        C.append((tag, function, sampler, options, anchor_options, path, sigmas, g))

    add("edm", "sample_euler", "ddim", {"eta": 0.0}, {}, "edm", edm)
    add("vp0", "sample_euler", "ddim", {"eta": 0.0}, {}, "vp", vp0)
    add("vp", "sample_euler", "ddim", {"eta": 0.0}, {}, "vp", vp)
    add("edm", "sample_dpmpp_2m", "dpmpp2m", {"lower_order_final": False}, {}, "edm", edm)
    add("vp0", "sample_dpmpp_2m", "dpmpp2m", {"lower_order_final": False}, {}, "vp", vp0)
    add("vp", "sample_dpmpp_2m", "dpmpp2m", {"lower_order_final": False}, {}, "vp", vp)
    add("edm", "sample_euler_ancestral", "euler-a", {"eta": 1.0, "s_noise": 1.0}, {"eta": 1.0, "s_noise": 1.0}, "edm", edm)
    add("edm_eta0", "sample_euler_ancestral", "euler-a", {"eta": 0.0, "s_noise": 1.0}, {"eta": 0.0, "s_noise": 1.0}, "edm", edm)
    add("vp0", "sample_euler_ancestral", "euler-a", {"eta": 0.7, "s_noise": 0.9}, {"eta": 0.7, "s_noise": 0.9}, "vp", vp0)
    add("edm", "sample_heun", "edm-heun", {}, {}, "edm", edm)
    add("vp0", "sample_heun", "edm-heun", {}, {}, "vp", vp0)
    add("vp", "sample_heun", "edm-heun", {}, {}, "vp", vp)
    churn = {"s_churn": 2.0, "s_tmin": 0.05, "s_tmax": 50.0, "s_noise": 1.003}
    add("edm", "sample_heun", "edm-sde", churn, churn, "edm", edm)
    churn_vp = {"s_churn": 4.0, "s_tmin": 0.01, "s_tmax": 200.0, "s_noise": 1.0}
    add("vp0", "sample_heun", "edm-sde", churn_vp, churn_vp, "vp", vp0)
    add("edm", "sample_dpm_2", "dpm2", {}, {}, "edm", edm)
    add("vp0", "sample_dpm_2", "dpm2", {}, {}, "vp", vp0)
    add("vp", "sample_dpm_2", "dpm2", {}, {}, "vp", vp)
    add("edm", "sample_dpm_2_ancestral", "dpm2-a", {"eta": 1.0, "s_noise": 1.0}, {"eta": 1.0, "s_noise": 1.0}, "edm", edm)
    add("vp0", "sample_dpm_2_ancestral", "dpm2-a", {"eta": 0.5, "s_noise": 1.1}, {"eta": 0.5, "s_noise": 1.1}, "vp", vp0)
    add("edm", "sample_lms", "lms", {"order": 4}, {"order": 4}, "edm", edm)
    add("vp0", "sample_lms", "lms", {"order": 4}, {"order": 4}, "vp", vp0)
    add("vp_o3", "sample_lms", "lms", {"order": 3}, {"order": 3}, "vp", vp)
    add("edm", "sample_dpmpp_2s_ancestral", "dpmpp2s-a", {"eta": 1.0, "s_noise": 1.0}, {"eta": 1.0, "s_noise": 1.0}, "edm", edm)
    add("vp0", "sample_dpmpp_2s_ancestral", "dpmpp2s-a", {"eta": 0.6, "s_noise": 1.0}, {"eta": 0.6, "s_noise": 1.0}, "vp", vp0)
    for tag, path, sig, eta, st in [
        ("edm_mid", "edm", edm, 1.0, "midpoint"),
        ("vp0_heun", "vp", vp0, 0.8, "heun"),
        ("vp_mid", "vp", vp, 1.0, "midpoint"),
        ("vp0_heun_eta0", "vp", vp0, 0.0, "heun"),
    ]:
        o = {"eta": eta, "s_noise": 1.0, "solver_type": st}
        add(tag, "sample_dpmpp_2m_sde", "dpmpp2m-sde", o, o, path, sig)
    for tag, path, sig, eta in [("edm", "edm", edm, 1.0), ("vp0_eta0", "vp", vp0, 0.0), ("vp", "vp", vp, 0.5)]:
        o = {"eta": eta, "s_noise": 1.0}
        add(tag, "sample_dpmpp_3m_sde", "dpmpp3m-sde", o, o, path, sig)
    return C


def d_cases():
    U, DE, DP = diffusers.UniPCMultistepScheduler, diffusers.DEISMultistepScheduler, diffusers.DPMSolverMultistepScheduler
    C = []
    steps = 10
    for variant in ["bh1", "bh2"]:
        for order in [1, 2, 3]:
            for corr in [True, False]:
                cfg = {"solver_type": variant, "solver_order": order, "prediction_type": "epsilon", "lower_order_final": True}
                if not corr:
                    cfg["disable_corrector"] = list(range(steps))
                if variant == "bh1":
                    # bh1 at a final sigma = 0 gives NaN in diffusers (B(h) = h = -inf times a zero residual).
                    cfg["final_sigmas_type"] = "sigma_min"
                opts = {"variant": variant, "order": order, "use_corrector": corr, "lower_order_final": True}
                C.append((f"{variant}_o{order}_{'pc' if corr else 'p'}", U, "unipc", opts, cfg, steps))
    for variant, order in [("bh2", 3), ("bh1", 2)]:
        cfg = {"solver_type": variant, "solver_order": order, "prediction_type": "epsilon", "lower_order_final": False}
        cfg["final_sigmas_type"] = "sigma_min"  # lower order final off and a final 0 is NaN in diffusers
        opts = {"variant": variant, "order": order, "use_corrector": True, "lower_order_final": False}
        C.append((f"{variant}_o{order}_pc_nolof", U, "unipc", opts, cfg, steps))
    for order in [1, 2, 3]:
        cfg = {"solver_order": order, "prediction_type": "epsilon", "lower_order_final": True}
        C.append((f"o{order}", DE, "deis", {"order": order, "lower_order_final": True}, cfg, steps))
    cfg = {"solver_order": 3, "prediction_type": "epsilon", "lower_order_final": False}
    C.append(("o3_nolof", DE, "deis", {"order": 3, "lower_order_final": False}, cfg, steps))
    for order in [2, 3]:
        name = "dpmpp2m" if order == 2 else "dpmpp3m"
        for lof in [True, False]:
            for final in ["zero", "sigma_min"]:
                cfg = {
                    "algorithm_type": "dpmsolver++",
                    "solver_order": order,
                    "prediction_type": "epsilon",
                    "lower_order_final": lof,
                    "final_sigmas_type": final,
                }
                tag = f"o{order}_{'lof' if lof else 'nolof'}_{final}"
                C.append((tag, DP, name, {"lower_order_final": lof}, cfg, steps))
    return C


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "fixtures"))
    ap.add_argument("--particles", type=int, default=200_000)
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for f in out.glob("*.json"):
        f.unlink()
    written = []

    def write(fname, obj):
        (out / fname).write_text(json.dumps(obj, indent=1) + "\n")
        written.append(fname)

    seed = 1000
    for tag, function, sampler, options, anchor_options, path, sigmas, g in k_cases():
        seed += 10
        fn = getattr(K, function)
        r = replay_case(f"{function}/{tag}", fn, path, sigmas, g, anchor_options, seed)
        obj = {
            "anchor": kd(function),
            "sampler": sampler,
            "options": options,
            "anchor_options": anchor_options,
            "path": path,
            "sigmas": sigmas,
            "mean": g.mean.tolist(),
            "cov": g.cov.tolist(),
            **r,
        }
        write(f"kd_{sampler}_{tag}.json", obj)

    for tag, cls, sampler, options, cfg, steps in d_cases():
        seed += 10
        sigmas, x_start, x, calls = run_diffusers(cls, cfg, steps, G2, seed)
        assert torch.isfinite(x).all(), (tag, cls.__name__)
        obj = {
            "anchor": f"diffusers {DV} {cls.__name__}",
            "sampler": sampler,
            "options": options,
            "anchor_options": {**cfg, "num_inference_steps": steps},
            "path": "vp",
            "sigmas": sigmas,
            "mean": G2.mean.tolist(),
            "cov": G2.cov.tolist(),
            "x_start": x_start.reshape(-1).tolist(),
            "noises": [],
            "draws_total": 0,
            "x_final": x.reshape(-1).tolist(),
            "score_evals": calls,
        }
        write(f"df_{sampler}_{tag}.json", obj)

    # sample_dpmpp_sde replayed with its Brownian motion in sigma built from independent increments
    # (BrownianFromIncrements): binding only for a gmdiff dpmpp-sde that draws the same two normals
    # per step in the same order; the particle fixtures below hold for any exact parametrisation.
    bm = "per step: xi_a = W[sigma_s, sigma_t]/sqrt(sigma_t - sigma_s), then xi_b = W[sigma_next, sigma_s]/sqrt(sigma_s - sigma_next)"
    for tag, path, sigmas, opts in [
        ("edm_bm", "edm", karras(8), {"eta": 1.0, "s_noise": 1.0, "r": 0.5}),
        ("vp0_bm", "vp", vp_uniform(8, zero=True), {"eta": 0.7, "s_noise": 1.05, "r": 0.4}),
    ]:
        seed += 10
        r = replay_case(f"sample_dpmpp_sde/{tag}", K.sample_dpmpp_sde, path, sigmas, G3, opts, seed, brownian=True)
        obj = {
            "anchor": kd("sample_dpmpp_sde"),
            "sampler": "dpmpp-sde",
            "options": opts,
            "anchor_options": {**opts, "noise_sampler": "BrownianFromIncrements (make_fixtures.py)"},
            "noise_convention": bm,
            "path": path,
            "sigmas": sigmas,
            "mean": G3.mean.tolist(),
            "cov": G3.cov.tolist(),
            **r,
        }
        write(f"kd_dpmpp-sde_{tag}.json", obj)

    # Particle fixtures: the anchor's own noise on n particles from gmdiff's standard start.
    n = args.particles
    edm, vp0 = karras(8), vp_uniform(8, zero=True)
    particle = [
        ("edm", "sample_dpmpp_sde", "dpmpp-sde", {"eta": 1.0, "s_noise": 1.0, "r": 0.5}, "edm", edm, True),
        ("vp0", "sample_dpmpp_sde", "dpmpp-sde", {"eta": 1.0, "s_noise": 1.0, "r": 0.5}, "vp", vp0, True),
        ("edm", "sample_dpmpp_2m_sde", "dpmpp2m-sde", {"eta": 1.0, "s_noise": 1.0, "solver_type": "midpoint"}, "edm", edm, True),
        ("edm", "sample_euler_ancestral", "euler-a", {"eta": 1.0, "s_noise": 1.0}, "edm", edm, False),
        ("vp0", "sample_euler", "ddim", {"eta": 0.0}, "vp", vp0, False),
    ]
    for tag, function, sampler, options, path, sigmas, brownian in particle:
        seed += 10
        fn = getattr(K, function)
        aopts = {k: v for k, v in options.items() if k != "eta" or sampler != "ddim"}
        r = particle_case(fn, path, sigmas, G3, aopts, seed, n, brownian)
        obj = {
            "anchor": kd(function),
            "sampler": sampler,
            "options": options,
            "anchor_options": {**aopts, "noise": "BrownianTreeNoiseSampler(seed)" if brownian else "torch.randn_like (seeded)"},
            "path": path,
            "sigmas": sigmas,
            "mean": G3.mean.tolist(),
            "cov": G3.cov.tolist(),
            "start": "standard",
            "particles": r,
            "score_evals": r.pop("score_evals"),
        }
        write(f"particles_kd_{sampler}_{tag}.json", obj)

    cross_checks()
    total = sum((out / f).stat().st_size for f in written)
    print(f"wrote {len(written)} fixtures, {total} bytes, to {out}")


def cross_checks():
    """Anchors against each other on the same sigmas (printed for the README, asserted to 1e-12)."""
    DP = diffusers.DPMSolverMultistepScheduler
    checks = [
        ("sample_dpmpp_2m", {}, {"solver_order": 2, "lower_order_final": False, "final_sigmas_type": "zero"}),
        ("sample_dpmpp_3m_sde", {"eta": 0.0}, {"solver_order": 3, "solver_type": "heun", "lower_order_final": False, "final_sigmas_type": "zero"}),
        ("sample_dpmpp_3m_sde", {"eta": 0.0}, {"solver_order": 3, "solver_type": "midpoint", "lower_order_final": False, "final_sigmas_type": "zero"}),
    ]
    for function, kw, cfg in checks:
        sigmas, x_start, x, _ = run_diffusers(DP, {"algorithm_type": "dpmsolver++", **cfg}, 10, G2, 7)
        a0 = a_of("vp", sigmas[0])
        out, _ = run_k(getattr(K, function), G2, x_start / a0, sigmas, kw, Tape(seed=1))
        err = (out - x).abs().max().item() / x.abs().max().item()
        print(f"cross-check k-diffusion {function}{kw} vs diffusers DPMSolverMultistep{cfg}: max rel diff {err:.3e}")


if __name__ == "__main__":
    main()
