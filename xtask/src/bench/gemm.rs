//! `gemm`: this machine's double-precision GEMM rate, `C = A B` with `A`, `B` square `n × n`,
//! through faer with rayon parallelism; the yardstick for the score kernel's FLOP rate
//! (`2 n³` FLOPs per product).

use super::{Params, best_of};
use crate::error::Result;
use faer::{Accum, Mat, Par, linalg::matmul::matmul};

pub fn run(p: &Params<'_>) -> Result<f64> {
    let a = Mat::from_fn(p.n, p.n, |i, j| ((i * 7 + j * 13) % 17) as f64 / 17.0);
    let b = Mat::from_fn(p.n, p.n, |i, j| ((i * 5 + j * 3) % 11) as f64 / 11.0);
    let mut c = Mat::zeros(p.n, p.n);
    let par = Par::rayon(0);
    Ok(best_of(p.runs, || matmul(c.as_mut(), Accum::Replace, a.as_ref(), b.as_ref(), 1.0, par)))
}
