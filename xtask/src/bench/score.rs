//! `score`: the batched exact score of a random full-covariance mixture, as the JAX peer
//! `peers/gmm_score_jax.py N D K` times it: the diffused mixture at `a_t = 0.8`, `b_t = 0.6` is
//! factorised once (untimed, as the peer precomputes its precisions), then the score of `n`
//! points is timed.

use super::{Params, best_of};
use crate::error::{Result, XtaskError};
use gmdiff::testing::{peer_mixture, peer_points};

pub fn run(p: &Params<'_>) -> Result<f64> {
    let density = peer_mixture(p.d, p.k, p.seed)
        .diffused(0.8, 0.6)
        .and_then(|m| m.density())
        .map_err(|e| XtaskError::Usage(format!("score workload: {e}")))?;
    let x = peer_points(p.n, p.d, p.seed);
    let mut out = faer::Mat::zeros(p.n, p.d);
    density.score_batch_into(x.as_ref(), out.as_mut()).map_err(|e| XtaskError::Usage(e.to_string()))?;
    Ok(best_of(p.runs, || density.score_batch_into(x.as_ref(), out.as_mut())))
}
