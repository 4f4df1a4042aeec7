//! One-dimensional W2 through quantile functions, and the sliced W2 built on it.

use crate::error::{MetricsError, Result, check_cloud, check_same_dim, finite, weights_or_uniform};
use faer::MatRef;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// `∫₀¹ |F⁻¹(t) − G⁻¹(t)|² dt` for sorted supports with masses (the north-west corner rule).
///
/// Each side keeps the *remaining* mass of its current atom, not a cumulative mass: the pair
/// `(i, j)` moves `min(r_a, r_b)`, which is exactly the smaller remainder, so an atom of mass
/// `1e-17` next to atoms of mass `½` still carries its whole mass (and its possibly huge cost).
/// A cumulative sum would round it away (`½ + 1e-17 = ½`). The masses are normalised by their
/// totals; at the last pair the larger remainder is used, so rounding never drops the tail.
fn w2sq_sorted(xs: &[f64], a: &[f64], ys: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (xs.len(), ys.len());
    let ta: f64 = a.iter().sum();
    let tb: f64 = b.iter().sum();
    let (mut i, mut j) = (0usize, 0usize);
    let (mut ra, mut rb) = (a[0] / ta, b[0] / tb);
    let mut total = 0.0f64;
    loop {
        let diff = xs[i] - ys[j];
        let (last_i, last_j) = (i + 1 == n, j + 1 == m);
        if last_i && last_j {
            total += ra.max(rb) * diff * diff;
            break;
        }
        // Advance the side whose atom is used up first; on the last atom of one side, the other.
        let advance_i = !last_i && (last_j || ra <= rb);
        let step = if advance_i { ra } else { rb };
        total += step * diff * diff;
        if advance_i {
            rb = (rb - step).max(0.0);
            i += 1;
            ra = a[i] / ta;
        } else {
            ra = (ra - step).max(0.0);
            j += 1;
            rb = b[j] / tb;
        }
    }
    total
}

/// Sorts values with their weights by value.
fn sort_weighted(v: &[f64], w: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_unstable_by(|&p, &q| v[p].total_cmp(&v[q]));
    (idx.iter().map(|&k| v[k]).collect(), idx.iter().map(|&k| w[k]).collect())
}

/// Squared W2 between sorted equal-size uniform samples: `(1/n) Σ (x_(i) − y_(i))²`.
fn w2sq_sorted_uniform(xs: &[f64], ys: &[f64]) -> f64 {
    xs.iter().zip(ys).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / xs.len() as f64
}

fn w2sq_1d_inner(x: &[f64], a: Option<&[f64]>, y: &[f64], b: Option<&[f64]>) -> f64 {
    match (a, b) {
        (None, None) if x.len() == y.len() => {
            let mut xs = x.to_vec();
            let mut ys = y.to_vec();
            xs.sort_unstable_by(f64::total_cmp);
            ys.sort_unstable_by(f64::total_cmp);
            w2sq_sorted_uniform(&xs, &ys)
        }
        _ => {
            let ua;
            let ub;
            let a = match a {
                Some(a) => a,
                None => {
                    ua = vec![1.0; x.len()];
                    &ua
                }
            };
            let b = match b {
                Some(b) => b,
                None => {
                    ub = vec![1.0; y.len()];
                    &ub
                }
            };
            let (xs, wa) = sort_weighted(x, a);
            let (ys, wb) = sort_weighted(y, b);
            w2sq_sorted(&xs, &wa, &ys, &wb)
        }
    }
}

fn check_1d(what: &'static str, v: &[f64]) -> Result<()> {
    if v.is_empty() {
        return Err(MetricsError::Empty { what, reason: "need at least one point".into() });
    }
    if let Some(index) = v.iter().position(|t| !t.is_finite()) {
        return Err(MetricsError::NonFinite { what, index });
    }
    Ok(())
}

/// Exact W2 between two weighted 1-D samples (`None` = uniform weights), any sizes:
///
/// `W2² = ∫₀¹ |F⁻¹(t) − G⁻¹(t)|² dt`,
///
/// with `F⁻¹`, `G⁻¹` the quantile functions of the two discrete laws (sort, then merge the
/// cumulative masses). This is POT's `wasserstein_1d(x, y, a, b, p=2)` square-rooted.
///
/// ```
/// let w = gmdiff_metrics::w2_1d(&[0.0, 1.0], None, &[0.5], None).unwrap();
/// assert!((w - 0.5).abs() < 1e-15);
/// let w = gmdiff_metrics::w2_1d(&[0.0, 3.0], Some(&[0.75, 0.25]), &[0.0], None).unwrap();
/// assert!((w - 1.5).abs() < 1e-15); // sqrt(0.25 · 9)
/// ```
pub fn w2_1d(x: &[f64], a: Option<&[f64]>, y: &[f64], b: Option<&[f64]>) -> Result<f64> {
    check_1d("x", x)?;
    check_1d("y", y)?;
    let wa = a.map(|w| weights_or_uniform("a", Some(w), x.len())).transpose()?;
    let wb = b.map(|w| weights_or_uniform("b", Some(w), y.len())).transpose()?;
    Ok(finite("W2²", w2sq_1d_inner(x, wa.as_deref(), y, wb.as_deref()))?.sqrt())
}

/// A Monte Carlo estimate of the sliced W2.
///
/// ```
/// use faer::mat;
/// let x = mat![[0.0, 0.0], [1.0, 1.0]];
/// let e = gmdiff_metrics::w2_sliced_estimate(x.as_ref(), None, x.as_ref(), None, 16, 7).unwrap();
/// assert_eq!((e.distance, e.std_error_squared), (0.0, 0.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlicedEstimate {
    /// `sqrt(mean_θ W2²(θᵀX, θᵀY))`.
    pub distance: f64,
    /// `mean_θ W2²(θᵀX, θᵀY)`.
    pub squared: f64,
    /// Standard error of `squared` over the directions: `sd / sqrt(P)` (0 when `P = 1`).
    pub std_error_squared: f64,
    /// Number of directions `P`.
    pub projections: usize,
}

/// The `P` random unit directions used by the sliced W2 with this `seed`, row-major (`P × d`).
///
/// Direction `p` is `g / ‖g‖` for `g` the `p`-th block of `d` standard normals drawn (ziggurat,
/// `rand_distr::StandardNormal`) from `ChaCha8Rng::seed_from_u64(seed)`. The stream is portable,
/// so the directions are bit-identical on every platform and thread count.
///
/// ```
/// let t = gmdiff_metrics::sliced_directions(3, 5, 1);
/// assert_eq!(t.len(), 15);
/// assert!((t[..3].iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-15);
/// ```
pub fn sliced_directions(d: usize, projections: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(d * projections);
    for _ in 0..projections {
        let g: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            out.extend(g.iter().map(|v| v / norm));
        } else {
            out.extend((0..d).map(|k| if k == 0 { 1.0 } else { 0.0 }));
        }
    }
    out
}

/// Sliced W2 with its Monte Carlo standard error; see [`w2_sliced`] for the definition.
///
/// Projections are evaluated in parallel (rayon) and reduced in direction order, so the result
/// is bit-identical for any number of threads.
///
/// ```
/// use faer::mat;
/// let x = mat![[0.0, 0.0], [1.0, 0.0]];
/// let y = mat![[0.0, 3.0], [1.0, 3.0]];
/// let e = gmdiff_metrics::w2_sliced_estimate(x.as_ref(), None, y.as_ref(), None, 200, 0).unwrap();
/// // A translation by v: W2²(θ) = (θ·v)², mean 9/2 over the circle.
/// assert!((e.squared - 4.5).abs() < 4.0 * e.std_error_squared);
/// ```
pub fn w2_sliced_estimate(
    x: MatRef<'_, f64>,
    a: Option<&[f64]>,
    y: MatRef<'_, f64>,
    b: Option<&[f64]>,
    projections: usize,
    seed: u64,
) -> Result<SlicedEstimate> {
    check_cloud("x", x, 1)?;
    check_cloud("y", y, 1)?;
    check_same_dim("y", x, y)?;
    if projections == 0 {
        return Err(MetricsError::InvalidParameter { name: "projections", value: 0.0, reason: "need at least one direction" });
    }
    let wa = a.map(|w| weights_or_uniform("a", Some(w), x.nrows())).transpose()?;
    let wb = b.map(|w| weights_or_uniform("b", Some(w), y.nrows())).transpose()?;
    let d = x.ncols();
    let dirs = sliced_directions(d, projections, seed);
    let project = |c: MatRef<'_, f64>, t: &[f64]| -> Vec<f64> { (0..c.nrows()).map(|i| (0..d).map(|k| c[(i, k)] * t[k]).sum()).collect() };
    let vals: Vec<f64> = dirs
        .par_chunks(d)
        .map(|t| {
            let px = project(x, t);
            let py = project(y, t);
            w2sq_1d_inner(&px, wa.as_deref(), &py, wb.as_deref())
        })
        .collect();
    let p = projections as f64;
    let squared = finite("sliced W2²", vals.iter().sum::<f64>() / p)?;
    let std_error_squared = if projections > 1 {
        let var = vals.iter().map(|v| (v - squared) * (v - squared)).sum::<f64>() / (p - 1.0);
        (var / p).sqrt()
    } else {
        0.0
    };
    Ok(SlicedEstimate { distance: squared.sqrt(), squared, std_error_squared, projections })
}

/// Sliced W2 between two clouds with uniform weights:
///
/// `SW2 = sqrt( (1/P) Σ_p W2²(θ_pᵀ X, θ_pᵀ Y) )`
///
/// over `P` random unit directions from [`sliced_directions`] — POT's
/// `sliced_wasserstein_distance(X, Y, n_projections=P, p=2)` definition (POT draws its own
/// directions with numpy, so values agree within the Monte Carlo error, not bit for bit).
/// A projection is 1-Lipschitz, so every term `W2(θᵀX, θᵀY) ≤ W2(X, Y)` and `SW2 ≤ W2` for
/// every draw of directions.
///
/// ```
/// use faer::mat;
/// let x = mat![[0.0, 0.0], [1.0, 2.0], [3.0, 1.0]];
/// let y = mat![[1.0, 1.0], [2.0, 0.0], [0.0, 3.0]];
/// let s = gmdiff_metrics::w2_sliced(x.as_ref(), y.as_ref(), 50, 42).unwrap();
/// assert!(s <= gmdiff_metrics::w2_exact(x.as_ref(), y.as_ref()).unwrap());
/// ```
pub fn w2_sliced(x: MatRef<'_, f64>, y: MatRef<'_, f64>, projections: usize, seed: u64) -> Result<f64> {
    Ok(w2_sliced_estimate(x, None, y, None, projections, seed)?.distance)
}
