//! `ou`: the Monte Carlo kernel of the `ou_moments` experiment, timed.

use super::{Params, best_of};
use crate::error::{Result, XtaskError};
use crate::experiments::ou_moments::simulate;

/// `n` OU samples of N(1.5, 2²) pushed to each of `k` times in (0, 2.5], with moments.
pub fn run(p: &Params) -> Result<f64> {
    if p.d != 1 {
        return Err(XtaskError::Usage(format!(
            "workload ou is one-dimensional; got d = {}",
            p.d
        )));
    }
    let k = p.k.max(1);
    let times: Vec<f64> = (1..=k).map(|i| 2.5 * i as f64 / k as f64).collect();
    Ok(best_of(p.runs, || {
        times
            .iter()
            .map(|&t| simulate(p.seed, p.n, 1.5, 2.0, t).variance())
            .sum::<f64>()
    }))
}
