#!/usr/bin/env python3
"""Writes tests/peer/fixtures/schedulers/*.json: the timestep and sigma TABLES of diffusers' own
schedulers after set_timesteps(n), replayed by crates/solvers/tests/diffusers_tables.rs (issue 16,
phase 1: the tables, not yet the laws).

Nothing of diffusers is copied here: the script imports it from a throwaway virtualenv (see
tests/peer/README.md, section "Scheduler tables", for the versions and the command).

Per class: a base configuration (the latent-diffusion one: beta_schedule "scaled_linear",
beta_start 0.00085, beta_end 0.012, 1000 training steps, clip_sample False where the class has it; EDM classes: their own defaults) and the
variations of VARIATIONS that the class's __init__ accepts (every key must be a parameter of the
class). Per configuration and per n in STEPS the fixture records:
  * "config": scheduler.config as diffusers writes it to scheduler_config.json (with "_class_name"),
  * "timesteps": scheduler.timesteps as float64,
  * "sigmas": scheduler.sigmas as float64 (absent when the class has none),
  * "alphas_cumprod": SHA-256 of its float64 bytes (little-endian, numpy .tobytes()), its length,
    its first and last values (absent when the class has none),
  * "init_noise_sigma" (float; a 0-d tensor is converted),
  * "dtypes": the torch dtypes of timesteps / sigmas / alphas_cumprod, as diffusers stores them.
A configuration that diffusers refuses (or that fails in set_timesteps) is recorded with "error":
the exception's type and message, and no tables.

Pinned versions (the script refuses to run with others, so a fixture always names its anchor):
"""

import argparse
import hashlib
import inspect
import json
import pathlib
import platform
import sys

PINNED = {"torch": "2.15.0", "diffusers": "0.42.1", "numpy": "2.4.6", "scipy": "1.17.1", "torchsde": "0.2.6"}

import numpy as np  # noqa: E402
import torch  # noqa: E402
import diffusers  # noqa: E402


def version(dist):
    from importlib.metadata import version as v

    return v(dist)


CLASSES = [
    "DDPMScheduler",
    "DDIMScheduler",
    "EulerDiscreteScheduler",
    "EulerAncestralDiscreteScheduler",
    "HeunDiscreteScheduler",
    "KDPM2DiscreteScheduler",
    "KDPM2AncestralDiscreteScheduler",
    "LMSDiscreteScheduler",
    "PNDMScheduler",
    "DPMSolverMultistepScheduler",
    "DPMSolverSinglestepScheduler",
    "DPMSolverSDEScheduler",
    "UniPCMultistepScheduler",
    "DEISMultistepScheduler",
    "EDMEulerScheduler",
    "EDMDPMSolverMultistepScheduler",
]

STEPS = [10, 25, 50]

# clip_sample = False (as in Stable Diffusion's own scheduler_config.json): DDPM's and DDIM's default
# True clips x0, a nonlinear step with no exact law, which gmdiff's reader refuses; it does not
# change the tables.
LDM = {"num_train_timesteps": 1000, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "clip_sample": False}

# name -> keyword arguments on top of the base; applied only where every key is an __init__ parameter.
VARIATIONS = [
    ("default", {}),
    ("linspace", {"timestep_spacing": "linspace"}),
    ("leading_offset1", {"timestep_spacing": "leading", "steps_offset": 1}),
    ("trailing", {"timestep_spacing": "trailing"}),
    ("karras", {"use_karras_sigmas": True}),
    ("exponential", {"use_exponential_sigmas": True}),
    ("beta", {"use_beta_sigmas": True}),
    ("final_zero", {"final_sigmas_type": "zero"}),
    ("final_sigma_min", {"final_sigmas_type": "sigma_min"}),
    ("zero_snr_trailing", {"rescale_betas_zero_snr": True, "timestep_spacing": "trailing"}),
    ("alpha_to_one", {"set_alpha_to_one": True}),
    ("no_alpha_to_one", {"set_alpha_to_one": False}),
    ("v_prediction", {"prediction_type": "v_prediction"}),
    ("linear_betas", {"beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02}),
    ("cosine_betas", {"beta_schedule": "squaredcos_cap_v2"}),
    ("skip_prk", {"skip_prk_steps": True}),
    # EDM classes
    ("edm_exponential", {"sigma_schedule": "exponential"}),
    ("edm_sigma_data", {"sigma_data": 0.75, "sigma_max": 14.6, "sigma_min": 0.03}),
]


def f64_list(t):
    return [float(v) for v in t.detach().to(torch.float64).cpu().numpy().tolist()]


def jsonable(v):
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return v.tolist()
    return repr(v)


def tables(cls, kwargs, n):
    s = cls(**kwargs)
    s.set_timesteps(n)
    rec = {"n": n, "timesteps": f64_list(s.timesteps), "dtypes": {"timesteps": str(s.timesteps.dtype)}}
    sig = getattr(s, "sigmas", None)
    if sig is not None:
        rec["sigmas"] = f64_list(torch.as_tensor(sig))
        rec["dtypes"]["sigmas"] = str(torch.as_tensor(sig).dtype)
    ac = getattr(s, "alphas_cumprod", None)
    if ac is not None:
        a = torch.as_tensor(ac).detach().to(torch.float64).cpu().numpy().astype("<f8")
        rec["alphas_cumprod"] = {"sha256_f64": hashlib.sha256(a.tobytes()).hexdigest(), "len": int(a.size), "first": float(a[0]), "last": float(a[-1])}
        rec["dtypes"]["alphas_cumprod"] = str(torch.as_tensor(ac).dtype)
    ins = s.init_noise_sigma
    rec["init_noise_sigma"] = float(ins.item() if torch.is_tensor(ins) else ins)
    return s, rec


def class_fixture(name):
    cls = getattr(diffusers, name)
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    base = {k: v for k, v in LDM.items() if k in params}
    cases = []
    for vname, var in VARIATIONS:
        if not set(var) <= params:
            continue
        kwargs = {**base, **var}
        case = {"name": vname, "kwargs": kwargs}
        try:
            # the config before set_timesteps (DPMSolverSinglestep's set_timesteps rewrites lower_order_final)
            case["config"] = jsonable(dict(cls(**kwargs).config))
            case["config"]["_class_name"] = name
            case["tables"] = [tables(cls, kwargs, n)[1] for n in STEPS]
        except Exception as e:  # diffusers' own refusal is a fact worth recording
            case["error"] = f"{type(e).__name__}: {e}"
        cases.append(case)
    return {
        "class": name,
        "anchor": {"diffusers": version("diffusers"), "torch": version("torch").split("+")[0], "numpy": np.__version__},
        "steps": STEPS,
        "cases": cases,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "fixtures" / "schedulers"))
    args = ap.parse_args()
    for dist, want in PINNED.items():
        got = version(dist).split("+")[0]
        if got != want:
            sys.exit(f"{dist} {got} installed, the fixtures pin {want}")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    total = 0
    for name in CLASSES:
        obj = class_fixture(name)
        text = json.dumps(obj, separators=(",", ":")) + "\n"
        (out / f"{name}.json").write_text(text)
        total += len(text)
        ok = sum("tables" in c for c in obj["cases"])
        errs = [c["name"] for c in obj["cases"] if "error" in c]
        print(f"{name}: {ok} configurations with tables, refused: {errs}", file=sys.stderr)
    print(f"total {total} bytes (python {platform.python_version()})", file=sys.stderr)


if __name__ == "__main__":
    main()
