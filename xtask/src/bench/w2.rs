//! `w2`: W2 between two clouds of `n` points in dimension `d` (`--method exact|sliced|bures`),
//! a standard Gaussian cloud against an anisotropic, shifted one; `k` is the number of sliced
//! projections (default 200 when `k` is 0).

use super::{Params, best_of};
use crate::error::{Result, XtaskError};
use faer::Mat;
use gmdiff::metrics;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The two clouds of the workload, reproducible from the seed.
pub fn clouds(p: &Params<'_>) -> (Mat<f64>, Mat<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut z = || -> f64 { StandardNormal.sample(&mut rng) };
    let x = Mat::from_fn(p.n, p.d, |_, _| z());
    let y = Mat::from_fn(p.n, p.d, |_, j| 0.5 + (1.0 + j as f64 * 0.5) * z());
    (x, y)
}

pub fn projections(p: &Params<'_>) -> usize {
    if p.k == 0 { 200 } else { p.k }
}

pub fn run(p: &Params<'_>) -> Result<f64> {
    let (x, y) = clouds(p);
    let method = p.method.unwrap_or("exact");
    if !["exact", "sliced", "bures"].contains(&method) {
        return Err(XtaskError::Usage(format!("w2 workload: unknown method {method:?}; use exact, sliced or bures")));
    }
    let f = |x: faer::MatRef<'_, f64>, y: faer::MatRef<'_, f64>| match method {
        "exact" => metrics::w2_exact(x, y),
        "sliced" => metrics::w2_sliced(x, y, projections(p), p.seed),
        _ => metrics::bures_w2_fitted(x, y),
    };
    f(x.as_ref(), y.as_ref()).map_err(|e| XtaskError::Usage(format!("w2 workload: {e}")))?;
    Ok(best_of(p.runs, || f(x.as_ref(), y.as_ref())))
}
