//! `mmd`: the unbiased MMD² statistic alone (no permutation), as `gmdiff mmd --permutations 0
//! --bandwidth H` computes it: clouds of `n = m` points in dimension `d`, `N(0, I)` against
//! `N(0.1 e₁, I)`, Gaussian kernel with the median-heuristic bandwidth of the pooled sample
//! (computed once, untimed, and handed to the peer). `k` is unused.

use super::{Params, best_of};
use crate::error::{Result, XtaskError};
use faer::Mat;
use gmdiff::metrics::{Bandwidth, median_bandwidth, mmd2_unbiased};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The two clouds of the workload, reproducible from the seed.
pub fn clouds(p: &Params<'_>) -> (Mat<f64>, Mat<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut z = || -> f64 { StandardNormal.sample(&mut rng) };
    let x = Mat::from_fn(p.n, p.d, |_, _| z());
    let y = Mat::from_fn(p.n, p.d, |_, j| if j == 0 { 0.1 } else { 0.0 } + z());
    (x, y)
}

/// The median-heuristic bandwidth of the workload's clouds.
pub fn bandwidth(x: &Mat<f64>, y: &Mat<f64>) -> Result<f64> {
    median_bandwidth(x.as_ref(), y.as_ref()).map_err(|e| XtaskError::Usage(format!("mmd workload: {e}")))
}

pub fn run(p: &Params<'_>) -> Result<f64> {
    let (x, y) = clouds(p);
    let h = bandwidth(&x, &y)?;
    let f = || mmd2_unbiased(x.as_ref(), y.as_ref(), Bandwidth::Fixed(h));
    f().map_err(|e| XtaskError::Usage(format!("mmd workload: {e}")))?;
    Ok(best_of(p.runs, f))
}
