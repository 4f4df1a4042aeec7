//! `sample`: a whole reverse-time sampling run on a random full-covariance k-mixture (the mixture
//! of `peers/gmm_ddpm_jax.py`: weights uniform-random and normalised, means N(0, 9), covariances
//! A Aᵀ/d + 0.1 I), with its exact score: `n` particles in dimension `d`, `--steps` steps
//! (default 200) of `--sampler` (default ddpm) on the VP linear process (0.1, 20, T = 1), uniform
//! grid to ε = 1e-3, standard normal start.

use super::{Params, best_of};
use crate::error::{Result, XtaskError};
use gmdiff::solvers::{Builtin, Schedule, Start, sample};
use gmdiff::testing::peer_mixture;

pub fn run(p: &Params<'_>) -> Result<f64> {
    let name = p.sampler.unwrap_or("ddpm");
    let sampler = Builtin::from_name(name)
        .ok_or_else(|| XtaskError::Usage(format!("sample workload: unknown sampler `{name}` (one of {})", Builtin::NAMES.join(", "))))?;
    let schedule = Schedule::uniform_vp(p.steps.unwrap_or(200), 1e-3).map_err(|e| XtaskError::Usage(format!("sample workload: {e}")))?;
    let mixture = peer_mixture(p.d, p.k, p.seed);
    let go = || sample(&sampler, &schedule, &mixture, Start::Standard, p.n, p.seed);
    go().map_err(|e| XtaskError::Usage(format!("sample workload: {e}")))?;
    Ok(best_of(p.runs, go))
}
