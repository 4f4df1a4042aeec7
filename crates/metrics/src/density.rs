//! Divergences between samples and a known density, by histogram with per-bin quadrature
//! (`d ≤ 2`).

use crate::error::{MetricsError, Result, check_cloud, check_param};
use faer::{Mat, MatRef};
use gmdiff_mixture::GaussianMixture;

/// A rectangular grid of `bins^d` equal cells on `[lo, hi]` (`d ≤ 2`); everything outside the
/// box forms one extra "outside" cell.
///
/// ```
/// let g = gmdiff_metrics::HistogramGrid::new(vec![-1.0, 0.0], vec![1.0, 2.0], 10).unwrap();
/// assert_eq!(g.cells(), 100);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramGrid {
    lo: Vec<f64>,
    hi: Vec<f64>,
    bins: usize,
}

impl HistogramGrid {
    /// A grid with `bins` cells per axis on the box `[lo, hi]`; needs `1 ≤ d ≤ 2`, `lo < hi`
    /// and `bins ≥ 1`.
    ///
    /// ```
    /// assert!(gmdiff_metrics::HistogramGrid::new(vec![0.0; 3], vec![1.0; 3], 4).is_err());
    /// ```
    pub fn new(lo: Vec<f64>, hi: Vec<f64>, bins: usize) -> Result<Self> {
        let d = lo.len();
        if d == 0 || d > 2 {
            return Err(MetricsError::InvalidParameter {
                name: "grid dimension",
                value: d as f64,
                reason: "histogram divergences support d = 1 or d = 2",
            });
        }
        if hi.len() != d {
            return Err(MetricsError::DimensionMismatch { what: "hi", expected: d, got: hi.len() });
        }
        for k in 0..d {
            check_param("lo", lo[k], true, "must be finite")?;
            check_param("hi", hi[k], hi[k] > lo[k], "must be finite and > lo")?;
            check_param("hi - lo", hi[k] - lo[k], true, "the width of the box must be finite (it overflows f64)")?;
        }
        if bins == 0 {
            return Err(MetricsError::InvalidParameter { name: "bins", value: 0.0, reason: "need at least one bin" });
        }
        // `bins^d` cells of `5^d` quadrature nodes each must be countable.
        if bins.checked_pow(d as u32).and_then(|c| c.checked_mul(GL_NODES.len().pow(d as u32))).is_none() {
            return Err(MetricsError::InvalidParameter { name: "bins", value: bins as f64, reason: "bins^d cells overflow usize" });
        }
        Ok(HistogramGrid { lo, hi, bins })
    }

    /// The bounding box of the sample, widened by `pad` (a fraction of its width) on each side.
    ///
    /// ```
    /// let x = faer::mat![[0.0], [2.0]];
    /// let g = gmdiff_metrics::HistogramGrid::fit(x.as_ref(), 8, 0.25).unwrap();
    /// assert_eq!(g.cells(), 8);
    /// ```
    pub fn fit(x: MatRef<'_, f64>, bins: usize, pad: f64) -> Result<Self> {
        check_cloud("x", x, 1)?;
        check_param("pad", pad, pad >= 0.0, "must be finite and >= 0")?;
        let d = x.ncols();
        let mut lo = vec![f64::INFINITY; d];
        let mut hi = vec![f64::NEG_INFINITY; d];
        for i in 0..x.nrows() {
            for k in 0..d {
                lo[k] = lo[k].min(x[(i, k)]);
                hi[k] = hi[k].max(x[(i, k)]);
            }
        }
        for k in 0..d {
            let w = (hi[k] - lo[k]).max(1e-12 * lo[k].abs().max(1.0));
            lo[k] -= pad * w;
            hi[k] += pad * w;
        }
        Self::new(lo, hi, bins)
    }

    /// Number of cells inside the box, `bins^d`.
    ///
    /// ```
    /// assert_eq!(gmdiff_metrics::HistogramGrid::new(vec![0.0], vec![1.0], 7).unwrap().cells(), 7);
    /// ```
    pub fn cells(&self) -> usize {
        self.bins.pow(self.lo.len() as u32)
    }

    fn width(&self, k: usize) -> f64 {
        (self.hi[k] - self.lo[k]) / self.bins as f64
    }

    /// The cell of a point, or `None` outside the box.
    fn cell(&self, p: impl Fn(usize) -> f64) -> Option<usize> {
        let mut idx = 0;
        for k in 0..self.lo.len() {
            let v = p(k);
            if !(v >= self.lo[k] && v <= self.hi[k]) {
                return None;
            }
            let b = (((v - self.lo[k]) / self.width(k)) as usize).min(self.bins - 1);
            idx = idx * self.bins + b;
        }
        Some(idx)
    }
}

/// Histogram estimates of the divergences between a sample's law `P` and a density `q`.
///
/// ```
/// let h = gmdiff_metrics::HistogramDivergence { tv: 0.1, kl: 0.02, kl_miller_madow: 0.015, cells: 50, samples: 1000, density_mass_outside: 1e-6 };
/// assert!(h.kl_miller_madow <= h.kl);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistogramDivergence {
    /// `½ Σ_c |P̂_c − Q_c|` over the cells and the outside cell.
    pub tv: f64,
    /// `Σ_c P̂_c ln(P̂_c / Q_c)` (`KL(P̂ ‖ Q)` of the binned laws; `∞` if a cell holding samples
    /// has `Q_c = 0`).
    pub kl: f64,
    /// `kl − (B − 1)/(2N)` with `B` the number of non-empty cells: the Miller–Madow correction
    /// of the plug-in bias.
    pub kl_miller_madow: f64,
    /// Number of cells inside the box.
    pub cells: usize,
    /// Number of samples `N`.
    pub samples: usize,
    /// `Q_out = 1 − Σ_c Q_c`, the density's mass outside the box (by quadrature).
    pub density_mass_outside: f64,
}

/// Five-point Gauss–Legendre nodes and weights on [−1, 1].
const GL_NODES: [f64; 5] = [-0.906_179_845_938_664, -0.538_469_310_105_683, 0.0, 0.538_469_310_105_683, 0.906_179_845_938_664];
const GL_WEIGHTS: [f64; 5] =
    [0.236_926_885_056_189, 0.478_628_670_499_366, 0.568_888_888_888_889, 0.478_628_670_499_366, 0.236_926_885_056_189];

/// Histogram divergences between the sample `x` (`N × d`, `d ≤ 2`) and the density whose
/// log-density `log_q` is given as a batch closure (one point per row in, one value per row
/// out; `−∞` means zero density).
///
/// Each cell's probability `Q_c = ∫_c q` comes from a 5-point Gauss–Legendre tensor rule per
/// cell; `P̂_c` is the fraction of samples in cell `c`. Both estimates are **biased**: binning
/// can only lower TV and KL (data processing), while finite `N` raises them (for TV by about
/// `½ Σ_c sqrt(2 P_c / (π N))` when `P = Q`, for KL by about `(B − 1)/(2N)`, which
/// [`HistogramDivergence::kl_miller_madow`] removes). Use fine cells and large `N` together.
///
/// ```
/// use faer::Mat;
/// use gmdiff_metrics::{histogram_divergence, HistogramGrid};
/// // A regular sample of U(0, 1) against the uniform density on [0, 1].
/// let x = Mat::from_fn(1000, 1, |i, _| (i as f64 + 0.5) / 1000.0);
/// let grid = HistogramGrid::new(vec![0.0], vec![1.0], 10).unwrap();
/// let h = histogram_divergence(x.as_ref(), |p| (0..p.nrows()).map(|_| 0.0).collect(), &grid).unwrap();
/// assert!(h.tv < 1e-12 && h.kl.abs() < 1e-12);
/// ```
pub fn histogram_divergence<F>(x: MatRef<'_, f64>, log_q: F, grid: &HistogramGrid) -> Result<HistogramDivergence>
where
    F: Fn(MatRef<'_, f64>) -> Vec<f64>,
{
    check_cloud("x", x, 1)?;
    let d = grid.lo.len();
    if x.ncols() != d {
        return Err(MetricsError::DimensionMismatch { what: "x (columns vs grid)", expected: d, got: x.ncols() });
    }
    let cells = grid.cells();
    let n = x.nrows();
    let mut counts = vec![0usize; cells];
    let mut outside = 0usize;
    for i in 0..n {
        match grid.cell(|k| x[(i, k)]) {
            Some(c) => counts[c] += 1,
            None => outside += 1,
        }
    }
    // Quadrature nodes of every cell, evaluated in one batch.
    let per = GL_NODES.len().pow(d as u32);
    let mut nodes = Mat::zeros(cells * per, d);
    let mut wts = vec![0.0; cells * per];
    let vol: f64 = (0..d).map(|k| grid.width(k)).product();
    for c in 0..cells {
        let idx: Vec<usize> = if d == 1 { vec![c] } else { vec![c / grid.bins, c % grid.bins] };
        for q in 0..per {
            let qi: Vec<usize> = if d == 1 { vec![q] } else { vec![q / 5, q % 5] };
            let mut w = vol;
            for k in 0..d {
                let h = grid.width(k);
                let centre = grid.lo[k] + (idx[k] as f64 + 0.5) * h;
                nodes[(c * per + q, k)] = centre + 0.5 * h * GL_NODES[qi[k]];
                w *= 0.5 * GL_WEIGHTS[qi[k]];
            }
            wts[c * per + q] = w;
        }
    }
    let lq = log_q(nodes.as_ref());
    if lq.len() != nodes.nrows() {
        return Err(MetricsError::DimensionMismatch { what: "log_q output", expected: nodes.nrows(), got: lq.len() });
    }
    if let Some(index) = lq.iter().position(|v| v.is_nan() || *v == f64::INFINITY) {
        return Err(MetricsError::BadDensity { what: "log_q", value: lq[index], index });
    }
    let qmass: Vec<f64> = (0..cells).map(|c| (0..per).map(|q| wts[c * per + q] * lq[c * per + q].exp()).sum()).collect();
    let q_in: f64 = qmass.iter().sum();
    let q_out = (1.0 - q_in).max(0.0);
    let nf = n as f64;
    let mut tv = 0.0;
    let mut kl = 0.0;
    let mut nonempty = 0usize;
    let cells_iter = counts.iter().zip(&qmass).map(|(&c, &q)| (c, q)).chain(std::iter::once((outside, q_out)));
    for (c, q) in cells_iter {
        let p = c as f64 / nf;
        tv += (p - q).abs();
        if c > 0 {
            nonempty += 1;
            kl += if q > 0.0 { p * (p / q).ln() } else { f64::INFINITY };
        }
    }
    Ok(HistogramDivergence {
        tv: (0.5 * tv).min(1.0),
        kl,
        kl_miller_madow: kl - (nonempty.saturating_sub(1)) as f64 / (2.0 * nf),
        cells,
        samples: n,
        density_mass_outside: q_out,
    })
}

/// [`histogram_divergence`] against a Gaussian mixture's exact density (`d ≤ 2`).
///
/// ```
/// use gmdiff_mixture::{Gaussian, GaussianMixture};
/// use gmdiff_metrics::{histogram_divergence_mixture, HistogramGrid};
/// let p = GaussianMixture::from_gaussian(Gaussian::standard(1).unwrap());
/// let x = p.sample(20_000, 3);
/// let grid = HistogramGrid::new(vec![-5.0], vec![5.0], 40).unwrap();
/// let h = histogram_divergence_mixture(x.as_ref(), &p, &grid).unwrap();
/// assert!(h.tv < 0.03 && h.kl_miller_madow.abs() < 0.01);
/// ```
pub fn histogram_divergence_mixture(x: MatRef<'_, f64>, q: &GaussianMixture, grid: &HistogramGrid) -> Result<HistogramDivergence> {
    let dens = q.density().map_err(crate::mixture::external)?;
    if dens.dim() != x.ncols() {
        return Err(MetricsError::DimensionMismatch { what: "x (columns vs mixture)", expected: dens.dim(), got: x.ncols() });
    }
    let failure = std::cell::RefCell::new(None);
    let out = histogram_divergence(
        x,
        |pts| match dens.logpdf_batch(pts) {
            Ok(v) => v,
            Err(e) => {
                *failure.borrow_mut() = Some(e);
                vec![0.0; pts.nrows()]
            }
        },
        grid,
    )?;
    match failure.into_inner() {
        Some(e) => Err(crate::mixture::external(e)),
        None => Ok(out),
    }
}
