//! Exact optimal transport between weighted point clouds, and the exact empirical W2.

use crate::error::{MetricsError, Result, check_cloud, check_same_dim, finite, weights_or_uniform};
use crate::order::paired_orders;
use crate::simplex::{Costs, DenseCosts, Simplex, SqEuclidCosts, detect_simd, two_sum};
use faer::MatRef;
use rayon::prelude::*;

/// From this dimension on, squared Euclidean costs are tabulated once (if the table fits)
/// instead of being recomputed at every pricing step.
const DENSE_MIN_DIM: usize = 6;
/// Largest cost table built for squared Euclidean costs (entries; 8 bytes each, 1 GiB).
const DENSE_MAX_ENTRIES: usize = 1 << 27;

/// Options of the exact solver.
///
/// ```
/// let opts = gmdiff_metrics::EmdOptions::default();
/// assert!(opts.max_pivots > 1_000_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmdOptions {
    /// Pivot budget; the solver returns [`MetricsError::NotConverged`] when it is exhausted.
    pub max_pivots: u64,
}

impl Default for EmdOptions {
    fn default() -> Self {
        EmdOptions { max_pivots: 1_000_000_000 }
    }
}

/// An optimal transport plan with its dual certificate.
///
/// For costs `C`, masses `a` (rows) and `b` (columns), the plan `γ ≥ 0` solves
/// `min Σ_ij C_ij γ_ij` subject to `Σ_j γ_ij = a_i`, `Σ_i γ_ij = b_j`; the potentials solve the
/// dual `max Σ a_i u_i + Σ b_j v_j` subject to `u_i + v_j ≤ C_ij`. At the optimum the two
/// objectives agree and `C_ij − u_i − v_j = 0` wherever `γ_ij > 0` (complementary slackness).
///
/// ```
/// use faer::mat;
/// let x = mat![[0.0], [1.0]];
/// let y = mat![[0.5], [3.0]];
/// let plan = gmdiff_metrics::ot_sq_euclidean(x.as_ref(), None, y.as_ref(), None, Default::default()).unwrap();
/// // Monotone coupling in 1-D: 0 → 0.5 and 1 → 3, each with mass 1/2.
/// assert!((plan.cost - 0.5 * (0.25 + 4.0)).abs() < 1e-15);
/// assert!((plan.dual_objective() - plan.cost).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TransportPlan {
    /// The support of the plan: `(i, j, γ_ij)` with `γ_ij > 0`, sorted by `(i, j)`.
    pub entries: Vec<(usize, usize, f64)>,
    /// Row potentials `u_i`.
    pub u: Vec<f64>,
    /// Column potentials `v_j`.
    pub v: Vec<f64>,
    /// Row masses `a` as used by the solver.
    pub a: Vec<f64>,
    /// Column masses `b` as used by the solver.
    pub b: Vec<f64>,
    /// The primal objective `Σ C_ij γ_ij` (for squared Euclidean costs this is `W2²`), summed
    /// in double-double from the basic flows (exact integers for uniform weights) and rounded
    /// once.
    pub cost: f64,
    /// `τ`, the absolute part of the optimality tolerance, in the units of `cost`: every pair
    /// has `C_ij − u_i − v_j ≥ −(20u|C_ij| + τ)` in the solver's double-double potentials
    /// (`u = 2⁻⁵³`), so `cost ≤ OPT + Σ γ*_ij (20u|C_ij|) + τ` for an optimal plan `γ*`.
    /// Typically `1e-25` to `1e-14` of the cost scale.
    pub tolerance: f64,
    /// Number of simplex pivots performed.
    pub pivots: u64,
}

impl TransportPlan {
    /// The dual objective `Σ a_i u_i + Σ b_j v_j`, equal to [`TransportPlan::cost`] at the
    /// optimum up to rounding.
    ///
    /// ```
    /// use faer::mat;
    /// let c = mat![[0.0, 2.0], [1.0, 0.0]];
    /// let p = gmdiff_metrics::emd(&[0.5, 0.5], &[0.5, 0.5], c.as_ref(), Default::default()).unwrap();
    /// assert_eq!(p.cost, 0.0);
    /// assert!(p.dual_objective().abs() < 1e-15);
    /// ```
    pub fn dual_objective(&self) -> f64 {
        let su: f64 = self.a.iter().zip(&self.u).map(|(a, u)| a * u).sum();
        let sv: f64 = self.b.iter().zip(&self.v).map(|(b, v)| b * v).sum();
        su + sv
    }
}

/// `Σ f_k c_k` accumulated in double-double (each product split exactly with a fused
/// multiply-add), rounded once at the end.
fn dot_dd(terms: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (mut hi, mut lo) = (0.0f64, 0.0f64);
    for (f, c) in terms {
        let p = f * c;
        let pe = f.mul_add(c, -p);
        let (s, e) = two_sum(hi, p);
        let (h, l) = two_sum(s, e + (lo + pe));
        hi = h;
        lo = l;
    }
    hi + lo
}

/// Greatest common divisor.
fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Solves the transport problem for validated masses through `costs`; zero masses are taken out
/// of the simplex and their potentials are set afterwards to the tightest feasible value.
///
/// When all positive masses of each side are equal (uniform weights), the simplex runs on the
/// integer masses `m' / g` and `n' / g` (`n'`, `m'` the numbers of positive masses,
/// `g = gcd(n', m')`): every flow update is then exact, and the plan is the exact uniform one
/// (with `f64` masses `1/n` the two sides do not balance exactly, and a rounding residue of
/// `≈ 1e-17` on a degenerate arc of cost `1e14` would add `1e-3` to the cost).
fn solve<C: Costs>(
    make_costs: impl FnOnce(&[usize], &[usize]) -> (C, Vec<usize>, Vec<usize>),
    a: &[f64],
    b: &[f64],
    full_cost: impl Fn(usize, usize) -> f64,
    opts: EmdOptions,
) -> Result<TransportPlan> {
    let rows: Vec<usize> = (0..a.len()).filter(|&i| a[i] > 0.0).collect();
    let cols: Vec<usize> = (0..b.len()).filter(|&j| b[j] > 0.0).collect();
    if rows.is_empty() || cols.is_empty() {
        return Err(MetricsError::BadWeights { what: "a/b", reason: "all weights are zero".into() });
    }
    let (costs, ro, co) = make_costs(&rows, &cols);
    let (n, m) = (rows.len(), cols.len());
    let uniform = rows.iter().all(|&i| a[i] == a[rows[0]]) && cols.iter().all(|&j| b[j] == b[cols[0]]);
    let g = gcd(n, m);
    let (ar, bc, unit): (Vec<f64>, Vec<f64>, f64) = if uniform {
        (vec![(m / g) as f64; n], vec![(n / g) as f64; m], ((n / g) * m) as f64)
    } else {
        (rows.iter().map(|&i| a[i]).collect(), cols.iter().map(|&j| b[j]).collect(), 1.0)
    };
    let sol = Simplex::new(&costs, &ar, &bc, &ro, &co).solve(opts.max_pivots)?;
    let mut u = vec![f64::NAN; a.len()];
    let mut v = vec![f64::NAN; b.len()];
    // Potentials scale with the masses only through the cost: they are unchanged by `unit`.
    for (r, &i) in rows.iter().enumerate() {
        u[i] = sol.pot[r];
    }
    for (c, &j) in cols.iter().enumerate() {
        v[j] = -sol.pot[n + c];
    }
    // Zero-mass points: u_i = min_j (C_ij − v_j) keeps the dual feasible and costs nothing.
    for i in 0..a.len() {
        if a[i] <= 0.0 {
            u[i] = cols.iter().map(|&j| full_cost(i, j) - v[j]).fold(f64::INFINITY, f64::min);
        }
    }
    for j in 0..b.len() {
        if b[j] <= 0.0 {
            v[j] = (0..a.len()).map(|i| full_cost(i, j) - u[i]).fold(f64::INFINITY, f64::min);
        }
    }
    // Split the additive constant of the potentials evenly between the two sides.
    let su: f64 = a.iter().zip(&u).map(|(a, u)| a * u).sum();
    let sv: f64 = b.iter().zip(&v).map(|(b, v)| b * v).sum();
    let mid = 0.5 * (su - sv);
    u.iter_mut().for_each(|t| *t -= mid);
    v.iter_mut().for_each(|t| *t += mid);
    let mut entries: Vec<(usize, usize, f64)> =
        sol.arcs.iter().filter(|&&(_, _, f)| f > 0.0).map(|&(r, c, f)| (rows[r], cols[c], f / unit)).collect();
    entries.sort_unstable_by_key(|&(i, j, _)| (i, j));
    // The cost from the basic flows (integers in the uniform case) before they are divided.
    let total = dot_dd(sol.arcs.iter().filter(|&&(_, _, f)| f > 0.0).map(|&(r, c, f)| (f, costs.cost(r, c))));
    let cost = finite("transport cost", total / unit)?;
    if u.iter().chain(&v).any(|t| !t.is_finite()) {
        return Err(MetricsError::Overflow { what: "dual potentials", value: f64::NAN });
    }
    Ok(TransportPlan { entries, u, v, a: a.to_vec(), b: b.to_vec(), cost, tolerance: sol.tau, pivots: sol.stats.pivots })
}

/// Optimal transport with squared Euclidean cost `C_ij = ‖x_i − y_j‖²` between weighted clouds.
///
/// `x` is `n × d` and `y` is `m × d` (one point per row); `a` and `b` are probability weights
/// (`None` = uniform). Solved exactly by a network simplex (block-search pricing, strongly
/// feasible bases) on costs computed on the fly, so memory is `O(n + m)`. `plan.cost` is `W2²`.
///
/// **Optimality rule and certificate.** The solver keeps its potentials in double-double and
/// lets an arc enter only if its reduced cost is below `−(16u|C_ij| + τ)` — a tolerance
/// relative to that arc's own cost, never to `max C` (see [`TransportPlan::tolerance`]). On
/// exit every pair has `C_ij − u_i − v_j ≥ −(20u|C_ij| + τ)` and every arc of the plan has
/// `|C_ij − u_i − v_j| ≤ 20u|C_ij| + τ` (checked; a failure is
/// [`MetricsError::NotConverged`]), so the cost is optimal to about `2e-15` relative for these
/// non-negative costs, whatever the spread between the smallest and the largest cost (two
/// clusters `1e7` apart included). The returned `u`, `v` are those potentials rounded to `f64`
/// (then shifted so that `Σ a_i u_i = Σ b_j v_j`): recomputing `C − u − v` from them in `f64`
/// carries an extra rounding of `≈ u·(|u_i| + |v_j|)`.
///
/// ```
/// use faer::mat;
/// let x = mat![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
/// let y = mat![[0.0, 1.0], [1.0, 0.0]];
/// let p = gmdiff_metrics::ot_sq_euclidean(x.as_ref(), Some(&[0.5, 0.25, 0.25]), y.as_ref(), None, Default::default()).unwrap();
/// let sent: f64 = p.entries.iter().filter(|e| e.0 == 0).map(|e| e.2).sum();
/// assert!((sent - 0.5).abs() < 1e-15);
/// assert!((p.cost - 0.5).abs() < 1e-15); // x_0 moves distance 1 with mass 1/2
/// ```
pub fn ot_sq_euclidean(
    x: MatRef<'_, f64>,
    a: Option<&[f64]>,
    y: MatRef<'_, f64>,
    b: Option<&[f64]>,
    opts: EmdOptions,
) -> Result<TransportPlan> {
    check_cloud("x", x, 1)?;
    check_cloud("y", y, 1)?;
    check_same_dim("y", x, y)?;
    let a = weights_or_uniform("a", a, x.nrows())?;
    let b = weights_or_uniform("b", b, y.nrows())?;
    let d = x.ncols();
    let full_cost = |i: usize, j: usize| (0..d).map(|k| (x[(i, k)] - y[(j, k)]).powi(2)).sum::<f64>();
    // Row-major x and column-major y of the points with positive mass.
    let gather = |rows: &[usize], cols: &[usize]| {
        let (n, m) = (rows.len(), cols.len());
        let mut xs = Vec::with_capacity(n * d);
        for &i in rows {
            for k in 0..d {
                xs.push(x[(i, k)]);
            }
        }
        let mut yt = vec![0.0; d * m];
        for (c, &j) in cols.iter().enumerate() {
            for k in 0..d {
                yt[k * m + c] = y[(j, k)];
            }
        }
        let (ro, co) = paired_orders(MatRef::from_row_major_slice(&xs, n, d), MatRef::from_column_major_slice(&yt, m, d));
        (xs, yt, ro, co)
    };
    // Squared distances must be representable: max ‖x − y‖² ≤ (max‖x‖ + max‖y‖)².
    let radius = |c: MatRef<'_, f64>| (0..c.nrows()).map(|i| (0..d).map(|k| c[(i, k)] * c[(i, k)]).sum::<f64>().sqrt()).fold(0.0, f64::max);
    finite("squared distances", (radius(x) + radius(y)).powi(2))?;
    let positive = |w: &[f64]| w.iter().filter(|&&t| t > 0.0).count();
    let entries = positive(&a).saturating_mul(positive(&b));
    if d >= DENSE_MIN_DIM && entries <= DENSE_MAX_ENTRIES {
        // Higher dimensions: one pass builds the matrix, pricing then streams it.
        let make = |rows: &[usize], cols: &[usize]| {
            let (xs, yt, ro, co) = gather(rows, cols);
            let (n, m) = (rows.len(), cols.len());
            let mut c = vec![0.0; n * m];
            c.par_chunks_mut(m).enumerate().for_each(|(r, row)| {
                let xr = &xs[r * d..(r + 1) * d];
                for (j, v) in row.iter_mut().enumerate() {
                    *v = xr.iter().enumerate().map(|(k, &xk)| (xk - yt[k * m + j]) * (xk - yt[k * m + j])).sum();
                }
            });
            (DenseCosts { c, n, m, simd: detect_simd() }, ro, co)
        };
        return solve(make, &a, &b, full_cost, opts);
    }
    let make = |rows: &[usize], cols: &[usize]| {
        let (xs, yt, ro, co) = gather(rows, cols);
        let (n, m) = (rows.len(), cols.len());
        (SqEuclidCosts { x: xs, yt, n, m, d, simd: detect_simd() }, ro, co)
    };
    solve(make, &a, &b, full_cost, opts)
}

/// Exact optimal transport for a general cost matrix (`n × m`, finite entries).
///
/// Solves `min Σ C_ij γ_ij` over couplings of `a` and `b` (both must be probability vectors)
/// with the same network simplex as [`ot_sq_euclidean`]; it is POT's `ot.emd` (the plan) and
/// `ot.emd2` (the value, [`TransportPlan::cost`]).
///
/// ```
/// use faer::mat;
/// let c = mat![[1.0, 0.0], [0.0, 1.0]];
/// let p = gmdiff_metrics::emd(&[0.5, 0.5], &[0.5, 0.5], c.as_ref(), Default::default()).unwrap();
/// assert_eq!(p.cost, 0.0);
/// assert_eq!(p.entries, vec![(0, 1, 0.5), (1, 0, 0.5)]);
/// ```
pub fn emd(a: &[f64], b: &[f64], cost: MatRef<'_, f64>, opts: EmdOptions) -> Result<TransportPlan> {
    check_cloud("cost", cost, 1)?;
    let a = weights_or_uniform("a", Some(a), cost.nrows())?;
    let b = weights_or_uniform("b", Some(b), cost.ncols())?;
    let make = |rows: &[usize], cols: &[usize]| {
        let n = rows.len();
        let m = cols.len();
        let mut c = Vec::with_capacity(n * m);
        for &i in rows {
            for &j in cols {
                c.push(cost[(i, j)]);
            }
        }
        (DenseCosts { c, n, m, simd: detect_simd() }, (0..n).collect(), (0..m).collect())
    };
    solve(make, &a, &b, |i, j| cost[(i, j)], opts)
}

/// Exact empirical W2 between two clouds with uniform weights: `sqrt(min_γ Σ γ_ij ‖x_i − y_j‖²)`.
///
/// Equals `sqrt(ot.emd2(ot.unif(n), ot.unif(m), ot.dist(x, y)))` in POT. The sizes may differ.
///
/// ```
/// use faer::mat;
/// let x = mat![[0.0, 0.0], [2.0, 0.0]];
/// let y = mat![[0.0, 1.0], [2.0, 1.0]];
/// assert!((gmdiff_metrics::w2_exact(x.as_ref(), y.as_ref()).unwrap() - 1.0).abs() < 1e-15);
/// ```
pub fn w2_exact(x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<f64> {
    Ok(ot_sq_euclidean(x, None, y, None, EmdOptions::default())?.cost.sqrt())
}

/// Exact empirical W2 between weighted clouds (`None` = uniform weights):
/// `sqrt(min_γ Σ γ_ij ‖x_i − y_j‖²)` over couplings of `a` and `b`.
///
/// ```
/// use faer::mat;
/// let x = mat![[0.0], [10.0]];
/// let y = mat![[0.0]];
/// let w = gmdiff_metrics::w2_exact_weighted(x.as_ref(), Some(&[0.99, 0.01]), y.as_ref(), None).unwrap();
/// assert!((w - 1.0).abs() < 1e-12); // sqrt(0.01 · 100)
/// ```
pub fn w2_exact_weighted(x: MatRef<'_, f64>, a: Option<&[f64]>, y: MatRef<'_, f64>, b: Option<&[f64]>) -> Result<f64> {
    Ok(ot_sq_euclidean(x, a, y, b, EmdOptions::default())?.cost.sqrt())
}
