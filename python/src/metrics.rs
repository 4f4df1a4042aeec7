//! The metrics of `gmdiff_metrics`: exact, sliced and Bures W2, Gaussian KL and entropy, MMD and the
//! energy distance (with permutation p-values), and the mixture KL, TV, entropy and MW2.

use crate::convert::{ArrayIn, matrix, points, vector};
use crate::errors::{Error, guarded};
use crate::mixture::PyMixture;
use gmdiff::metrics::{self as m, Bandwidth, McEstimate, PermutationOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Two clouds `(n, d)` and `(m, d)`.
fn clouds<'a>(x: &'a ArrayIn<'_>, y: &'a ArrayIn<'_>) -> Result<(crate::convert::RowMajor<'a>, crate::convert::RowMajor<'a>), Error> {
    let x = points(x, "x", None)?;
    let y = points(y, "y", Some(x.shape[1]))?;
    Ok((x, y))
}

/// Exact empirical W2 between weighted clouds (network simplex), `None` weights = uniform.
#[pyfunction]
#[pyo3(signature = (x, y, a = None, b = None))]
pub fn w2_exact(py: Python<'_>, x: ArrayIn<'_>, y: ArrayIn<'_>, a: Option<ArrayIn<'_>>, b: Option<ArrayIn<'_>>) -> PyResult<f64> {
    let (xs, ys) = clouds(&x, &y)?;
    let a = a.map(|a| vector(&a, "a", Some(xs.shape[0]))).transpose()?;
    let b = b.map(|b| vector(&b, "b", Some(ys.shape[0]))).transpose()?;
    let (xm, ym) = (xs.mat(), ys.mat());
    Ok(guarded(py, || Ok(m::w2_exact_weighted(xm, a.as_deref(), ym, b.as_deref())?))?)
}

/// Sliced W2 over `projections` random directions (seeded): `(distance, std_error_squared)`.
#[pyfunction]
#[pyo3(signature = (x, y, projections = 200, seed = 0))]
pub fn w2_sliced(py: Python<'_>, x: ArrayIn<'_>, y: ArrayIn<'_>, projections: usize, seed: u64) -> PyResult<(f64, f64)> {
    let (xs, ys) = clouds(&x, &y)?;
    let (xm, ym) = (xs.mat(), ys.mat());
    let e = guarded(py, || Ok(m::w2_sliced_estimate(xm, None, ym, None, projections, seed)?))?;
    Ok((e.distance, e.std_error_squared))
}

/// Bures–W2 between `N(m1, s1)` and `N(m2, s2)` (closed form).
#[pyfunction]
pub fn bures_w2(m1: ArrayIn<'_>, s1: ArrayIn<'_>, m2: ArrayIn<'_>, s2: ArrayIn<'_>) -> PyResult<f64> {
    let (m1, m2) = (vector(&m1, "m1", None)?, vector(&m2, "m2", None)?);
    let (s1, s2) = (matrix(&s1, "s1", Some(m1.len()))?, matrix(&s2, "s2", Some(m1.len()))?);
    Ok(m::bures_w2(&m1, s1.as_ref(), &m2, s2.as_ref()).map_err(Error::from)?)
}

/// Bures–W2 between the Gaussians fitted (mean, unbiased covariance) to two clouds.
#[pyfunction]
pub fn bures_w2_fitted(py: Python<'_>, x: ArrayIn<'_>, y: ArrayIn<'_>) -> PyResult<f64> {
    let (xs, ys) = clouds(&x, &y)?;
    let (xm, ym) = (xs.mat(), ys.mat());
    Ok(guarded(py, || Ok(m::bures_w2_fitted(xm, ym)?))?)
}

/// `KL(N(m1, s1) ‖ N(m2, s2))` (closed form).
#[pyfunction]
pub fn kl_gaussian(m1: ArrayIn<'_>, s1: ArrayIn<'_>, m2: ArrayIn<'_>, s2: ArrayIn<'_>) -> PyResult<f64> {
    let (m1, m2) = (vector(&m1, "m1", None)?, vector(&m2, "m2", None)?);
    let (s1, s2) = (matrix(&s1, "s1", Some(m1.len()))?, matrix(&s2, "s2", Some(m1.len()))?);
    Ok(m::kl_gaussian(&m1, s1.as_ref(), &m2, s2.as_ref()).map_err(Error::from)?)
}

/// Differential entropy of `N(·, s)` in nats.
#[pyfunction]
pub fn gaussian_entropy(s: ArrayIn<'_>) -> PyResult<f64> {
    let s = matrix(&s, "s", None)?;
    Ok(m::gaussian_entropy(s.as_ref()).map_err(Error::from)?)
}

/// MMD² with the Gaussian kernel `exp(−‖x − y‖²/(2h²))` (`bandwidth=None`: the median heuristic),
/// unbiased and biased, with permutation p-values when `permutations > 0`.
#[pyfunction]
#[pyo3(signature = (x, y, bandwidth = None, permutations = 0, seed = 0))]
pub fn mmd<'py>(
    py: Python<'py>,
    x: ArrayIn<'py>,
    y: ArrayIn<'py>,
    bandwidth: Option<f64>,
    permutations: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let (xs, ys) = clouds(&x, &y)?;
    let (xm, ym) = (xs.mat(), ys.mat());
    let bw = bandwidth.map_or(Bandwidth::Median, Bandwidth::Fixed);
    let t = guarded(py, || Ok(m::mmd_test(xm, ym, bw, &PermutationOptions { permutations, seed, progress: None })?))?;
    let d = PyDict::new(py);
    d.set_item("mmd2", t.mmd2)?;
    d.set_item("mmd2_biased", t.mmd2_biased)?;
    d.set_item("bandwidth", t.bandwidth)?;
    d.set_item("permutations", t.permutations)?;
    d.set_item("p_value", t.p_value)?;
    d.set_item("p_value_biased", t.p_value_biased)?;
    Ok(d)
}

/// Energy distance `D` and `D²` (SciPy's convention in 1-D), with a permutation p-value when
/// `permutations > 0`.
#[pyfunction]
#[pyo3(signature = (x, y, permutations = 0, seed = 0))]
pub fn energy_distance<'py>(
    py: Python<'py>,
    x: ArrayIn<'py>,
    y: ArrayIn<'py>,
    permutations: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let (xs, ys) = clouds(&x, &y)?;
    let (xm, ym) = (xs.mat(), ys.mat());
    let t = guarded(py, || Ok(m::energy_test(xm, ym, &PermutationOptions { permutations, seed, progress: None })?))?;
    let d = PyDict::new(py);
    d.set_item("distance", t.distance)?;
    d.set_item("distance_sq", t.distance_sq)?;
    d.set_item("permutations", t.permutations)?;
    d.set_item("p_value", t.p_value)?;
    Ok(d)
}

fn estimate(e: McEstimate) -> (f64, f64) {
    (e.estimate, e.std_error)
}

/// Monte Carlo `KL(p ‖ q)` from `samples` draws of `p`: `(estimate, std_error)`.
#[pyfunction]
#[pyo3(signature = (p, q, samples = 100_000, seed = 0))]
pub fn mixture_kl(py: Python<'_>, p: &Bound<'_, PyMixture>, q: &Bound<'_, PyMixture>, samples: usize, seed: u64) -> PyResult<(f64, f64)> {
    let (p, q) = (&p.get().inner, &q.get().inner);
    Ok(estimate(guarded(py, || Ok(m::kl_mixtures_mc(p, q, samples, seed)?))?))
}

/// Monte Carlo `TV(p, q)`: `(estimate, std_error)`.
#[pyfunction]
#[pyo3(signature = (p, q, samples = 100_000, seed = 0))]
pub fn mixture_tv(py: Python<'_>, p: &Bound<'_, PyMixture>, q: &Bound<'_, PyMixture>, samples: usize, seed: u64) -> PyResult<(f64, f64)> {
    let (p, q) = (&p.get().inner, &q.get().inner);
    Ok(estimate(guarded(py, || Ok(m::tv_mixtures_mc(p, q, samples, seed)?))?))
}

/// Monte Carlo differential entropy of `p` in nats: `(estimate, std_error)`.
#[pyfunction]
#[pyo3(signature = (p, samples = 100_000, seed = 0))]
pub fn mixture_entropy(py: Python<'_>, p: &Bound<'_, PyMixture>, samples: usize, seed: u64) -> PyResult<(f64, f64)> {
    let p = &p.get().inner;
    Ok(estimate(guarded(py, || Ok(m::mixture_entropy_mc(p, samples, seed)?))?))
}

/// MW2 of Delon–Desolneux: W2 between mixtures restricted to Gaussian-mixture couplings (exact).
#[pyfunction]
pub fn mixture_w2(py: Python<'_>, p: &Bound<'_, PyMixture>, q: &Bound<'_, PyMixture>) -> PyResult<f64> {
    let (p, q) = (&p.get().inner, &q.get().inner);
    Ok(guarded(py, || Ok(m::mixture_w2(p, q)?))?.distance)
}
