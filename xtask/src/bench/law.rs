//! `law`: the exact output law of a sampler on dense Gaussian data, as `gmdiff gaussian-error
//! --mean … --covariance …` computes it ([`gmdiff::gaussian::DenseProblem::scheme`]: the law, its
//! Bures W2 and KL to the data). Data `N(μ, Σ)` in dimension `d` with `Σ = A Aᵀ/d + 0.1 I`
//! (`A` standard normal, the score peers' covariance family) and `μ ~ N(0, I)`; `--sampler`
//! (default heun), `--steps` (default 100) on the VP linear process, uniform grid to ε = 1e-3,
//! standard start. `--method eigen` (default) passes the problem's own target, which
//! `DenseProblem::scheme` runs in the eigenbasis of `Σ`; `--method engine` passes a copy of it,
//! which runs the dense `O(d³)`-per-step engine (the route before issue 18). `n` and `k` are unused.

use super::{Params, best_of};
use crate::error::{Result, XtaskError};
use faer::Mat;
use gmdiff::gaussian::{DenseProblem, Init};
use gmdiff::solvers::{Builtin, Schedule};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The workload's data, reproducible from the seed.
pub fn problem(d: usize, seed: u64) -> Result<DenseProblem> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut z = || -> f64 { StandardNormal.sample(&mut rng) };
    let mean: Vec<f64> = (0..d).map(|_| z()).collect();
    let a = Mat::from_fn(d, d, |_, _| z() / (d as f64).sqrt());
    let aat = &a * a.transpose();
    // Exactly symmetric: the upper triangle of the product mirrored (the product is symmetric up to rounding).
    let cov = Mat::from_fn(d, d, |i, j| aat[(i.min(j), i.max(j))] + if i == j { 0.1 } else { 0.0 });
    DenseProblem::new(mean, cov).map_err(|e| XtaskError::Usage(format!("law workload: {e}")))
}

pub fn run(p: &Params<'_>) -> Result<f64> {
    let name = p.sampler.unwrap_or("heun");
    let sampler = Builtin::from_name(name)
        .ok_or_else(|| XtaskError::Usage(format!("law workload: unknown sampler `{name}` (one of {})", Builtin::NAMES.join(", "))))?;
    let schedule = Schedule::uniform_vp(p.steps.unwrap_or(100), 1e-3).map_err(|e| XtaskError::Usage(format!("law workload: {e}")))?;
    let data = problem(p.d, p.seed)?;
    let copy = data.target().clone();
    let score = match p.method.unwrap_or("eigen") {
        "eigen" => data.target(),
        "engine" => &copy,
        m => return Err(XtaskError::Usage(format!("law workload: unknown method {m:?}; use eigen or engine"))),
    };
    let go = || data.scheme(&sampler, &schedule, Init::Standard, score, false);
    go().map_err(|e| XtaskError::Usage(format!("law workload: {e}")))?;
    Ok(best_of(p.runs, go))
}
