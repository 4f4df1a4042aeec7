//! A primal network simplex for the balanced transportation problem.
//!
//! The problem: sources `i < n` with supplies `a_i > 0`, sinks `j < m` with demands `b_j > 0`,
//! `Σ a = Σ b`, an arc `i → j` of cost `C_ij` and unbounded capacity for every pair. The solver
//! keeps a spanning-tree basis with `n + m − 1` arcs, stored as a rooted tree with
//! parent / thread (preorder) / reverse-thread / subtree-size / last-descendant arrays, so that a
//! pivot costs the length of the cycle plus the size of the smaller side of the cut.
//!
//! * **Start.** A north-west-corner plan on caller-supplied orders of the rows and columns (for
//!   squared Euclidean costs the caller orders the points by recursive median splits along
//!   principal directions, which makes that plan nearly local). Ties are broken so that every zero-flow basic arc points towards
//!   the root: the tree is *strongly feasible* from the start.
//! * **Pricing.** Block search: arcs are scanned cyclically in row-major order by blocks of about
//!   `√(nm)` arcs, and the arc of the first block holding a violating one that violates most
//!   enters.
//! * **Ratio test.** Cunningham's rule (last blocking arc of the cycle oriented along the entering
//!   arc from its apex), which keeps the tree strongly feasible and rules out cycling.
//! * **Potentials in double-double.** `rc(i, j) = C_ij − π_i + π_{n+j}`. Each potential is kept
//!   as an unevaluated sum `π = hi + lo` of two `f64`s. When a few costs are huge next to the
//!   matched ones (two clusters `1e7` apart: `max C = 1e14`, matched costs `≈ 1`), potentials
//!   on the far side of a huge tree arc are `≈ 1e14`; in plain `f64` their small differences —
//!   the matched costs — would be rounded to `ulp(1e14) ≈ 0.016`. In double-double they carry
//!   about 32 digits, so `π_{n+j} − π_i` is exact to `≈ u²·|π|`.
//! * **Optimality rule, per arc.** Arc `(i, j)` enters only if
//!   `w_ij = (C_ij + κu|C_ij|) + ((hi_{n+j} − hi_i) + (lo_{n+j} − lo_i)) < −τ`, evaluated in
//!   plain `f64` (`u = 2⁻⁵³`, `κ = 16`). The `f64` evaluation of `w` errs by at most
//!   `≈ 3u(|C_ij| + |rc_ij|) + u²(|π_i| + |π_{n+j}|)` (the subtraction `hi_{n+j} − hi_i` is exact
//!   when the two are within a factor 2, which is the case whenever `rc` is small next to
//!   them), and `τ = 8u²·P·(n + m + 512)` bounds the double-double error of the potentials
//!   (`P` bounds `|π|`). So an entering arc truly has `rc < 0` (no cycling from rounding), and
//!   when none is found every arc has `rc_ij ≥ −(κ + 4)u|C_ij| − τ`: the tolerance is relative
//!   to each arc's own cost, never to `max C`. For any optimal plan `γ*` this bounds the excess
//!   cost of the final plan by `Σ γ*_ij ((κ+4)u|C_ij| + τ)`, i.e. `≈ 2.2e-15 · OPT + τ` for
//!   non-negative costs.
//! * **Potential upkeep.** A pivot shifts the potentials of one side of the cut by the entering
//!   arc's reduced cost (computed in double-double); all potentials are recomputed from the tree
//!   every 256 pivots and before optimality is declared, so the final scan — the dual
//!   feasibility half of the certificate — sees no accumulated rounding.
//! * **Certificate.** At the end the basic flows are recomputed from the tree and the masses in
//!   double-double (subtree sums), so a zero-flow degenerate arc of huge cost carries no rounding
//!   residue, and [`Simplex::solve`] checks primal feasibility (flows `≥ −` the mass tolerance)
//!   and complementary slackness (`|rc_ij| ≤ (κ + 4)u|C_ij| + τ` on every arc carrying flow).
//!   A failed check is [`MetricsError::NotConverged`], never a number.

use crate::error::{MetricsError, Result};

const NONE: usize = usize::MAX;

/// Source of arc costs for the solver, evaluated on demand.
pub(crate) trait Costs: Sync {
    /// Number of sources (rows).
    fn rows(&self) -> usize;
    /// Number of sinks (columns).
    fn cols(&self) -> usize;
    /// `C_ij`.
    fn cost(&self, i: usize, j: usize) -> f64;
    /// `min_{j0 ≤ j < j1}` of the [`lane`] value of arc `(i, j)`; `p` holds all the sink
    /// potentials, `r` the row's.
    fn row_min<const DD: bool>(&self, i: usize, j0: usize, j1: usize, p: &SinkPots<'_>, r: &[f64; 4]) -> f64;
    /// The first `j` in `j0..j1` whose [`lane`] value equals `target` bit for bit.
    fn row_find<const DD: bool>(&self, i: usize, j0: usize, j1: usize, p: &SinkPots<'_>, r: &[f64; 4], target: f64) -> usize;
}

/// Potentials of the sinks, `π_{n+j} = (hh_j + hl_j) + (lh_j + ll_j)`: a block base `H = hh + hl`
/// shared by every node of a block and a local offset `L = lh + ll`, both double-double.
#[derive(Clone, Copy)]
pub(crate) struct SinkPots<'a> {
    pub hh: &'a [f64],
    pub hl: &'a [f64],
    pub lh: &'a [f64],
    pub ll: &'a [f64],
}

impl<'a> SinkPots<'a> {
    #[inline(always)]
    fn range(&self, j0: usize, j1: usize) -> SinkPots<'a> {
        SinkPots { hh: &self.hh[j0..j1], hl: &self.hl[j0..j1], lh: &self.lh[j0..j1], ll: &self.ll[j0..j1] }
    }
}

/// Unit round-off of `f64`.
pub(crate) const UNIT: f64 = f64::EPSILON / 2.0;
/// `κ` of the per-arc optimality tolerance `κu|C_ij|`.
pub(crate) const KAPPA: f64 = 16.0;
const KU: f64 = KAPPA * UNIT;
/// Block jumps of the certifying phase, in units of the mean cost per unit of flow.
const BLOCK_RATIO: f64 = (1u64 << 26) as f64;

/// The pricing value of an arc in the certifying phase:
/// `(C + κu|C|) + (((hh_j − hh_i) + (hl_j − hl_i)) + ((lh_j − lh_i) + (ll_j − ll_i)))`, i.e. its
/// reduced cost `C − π_i + π_{n+j}` plus its own tolerance. Within a block the base terms are
/// exactly 0; the differences of the high parts come first so that they are exact (Sterbenz)
/// whenever the two values are within a factor 2.
#[inline(always)]
fn price(c: f64, hh: f64, hl: f64, lh: f64, ll: f64, r: &[f64; 4]) -> f64 {
    (c + KU * c.abs()) + (((hh - r[0]) + (hl - r[1])) + ((lh - r[2]) + (ll - r[3])))
}

/// The per-arc value the row kernels minimise: [`price`] in the certifying phase (`DD`), or
/// `C + π_{n+j}` with plain `f64` potentials (`hh`) in the fast phase (the row potential is then
/// subtracted once per segment by [`finish`]).
#[inline(always)]
fn lane<const DD: bool>(c: f64, p: &SinkPots<'_>, t: usize, r: &[f64; 4]) -> f64 {
    if DD { price(c, p.hh[t], p.hl[t], p.lh[t], p.ll[t], r) } else { c + p.hh[t] }
}

/// [`lane`] on the eight arcs `t..t + 8` (`p` restricted to the segment).
#[inline(always)]
fn lanes8<const DD: bool>(c: &[f64; 8], p: &SinkPots<'_>, t: usize, r: &[f64; 4]) -> [f64; 8] {
    let hh: &[f64; 8] = p.hh[t..t + 8].try_into().expect("chunk of 8");
    if DD {
        let hl: &[f64; 8] = p.hl[t..t + 8].try_into().expect("chunk of 8");
        let lh: &[f64; 8] = p.lh[t..t + 8].try_into().expect("chunk of 8");
        let ll: &[f64; 8] = p.ll[t..t + 8].try_into().expect("chunk of 8");
        std::array::from_fn(|l| price(c[l], hh[l], hl[l], lh[l], ll[l], r))
    } else {
        std::array::from_fn(|l| c[l] + hh[l])
    }
}

/// The pricing value of a segment from its [`lane`] minimum.
#[inline(always)]
fn finish<const DD: bool>(raw: f64, hi: f64) -> f64 {
    if DD { raw } else { raw - hi }
}

/// A dense row-major cost matrix.
pub(crate) struct DenseCosts {
    pub c: Vec<f64>,
    pub n: usize,
    pub m: usize,
    /// Use the AVX2 build of the row kernel.
    pub simd: bool,
}

/// `min_t lane(row[t], p, t, r)` over `t < row.len()` (`p` restricted to the segment), eight
/// lanes at a time.
#[inline(always)]
fn dense_min<const DD: bool>(row: &[f64], p: &SinkPots<'_>, r: &[f64; 4]) -> f64 {
    let len = row.len();
    let full = len / 8 * 8;
    let mut acc = [f64::INFINITY; 8];
    let mut t = 0;
    while t < full {
        let c: &[f64; 8] = row[t..t + 8].try_into().expect("chunk of 8");
        let w = lanes8::<DD>(c, p, t, r);
        for l in 0..8 {
            acc[l] = if w[l] < acc[l] { w[l] } else { acc[l] };
        }
        t += 8;
    }
    for (t, &c) in row.iter().enumerate().skip(full) {
        let w = lane::<DD>(c, p, t, r);
        acc[0] = if w < acc[0] { w } else { acc[0] };
    }
    acc.iter().fold(f64::INFINITY, |m, &v| if v < m { v } else { m })
}

/// [`dense_min`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dense_min_avx2<const DD: bool>(row: &[f64], p: &SinkPots<'_>, r: &[f64; 4]) -> f64 {
    dense_min::<DD>(row, p, r)
}

impl Costs for DenseCosts {
    fn rows(&self) -> usize {
        self.n
    }
    fn cols(&self) -> usize {
        self.m
    }
    #[inline]
    fn cost(&self, i: usize, j: usize) -> f64 {
        self.c[i * self.m + j]
    }
    #[inline]
    fn row_min<const DD: bool>(&self, i: usize, j0: usize, j1: usize, p: &SinkPots<'_>, r: &[f64; 4]) -> f64 {
        let row = &self.c[i * self.m + j0..i * self.m + j1];
        let p = p.range(j0, j1);
        #[cfg(target_arch = "x86_64")]
        if self.simd {
            // SAFETY: `simd` is true only when the CPU reported AVX2 at run time.
            return unsafe { dense_min_avx2::<DD>(row, &p, r) };
        }
        dense_min::<DD>(row, &p, r)
    }
    fn row_find<const DD: bool>(&self, i: usize, j0: usize, j1: usize, p: &SinkPots<'_>, r: &[f64; 4], target: f64) -> usize {
        let row = &self.c[i * self.m..(i + 1) * self.m];
        (j0..j1).find(|&j| lane::<DD>(row[j], p, j, r) == target).unwrap_or(j0)
    }
}

/// Squared Euclidean costs between two clouds, computed on the fly.
///
/// `x` is row-major (`n × d`), `yt` is column-major (`d × m`, i.e. one slice per coordinate), so
/// that a row scan streams contiguous coordinate slices.
pub(crate) struct SqEuclidCosts {
    pub x: Vec<f64>,
    pub yt: Vec<f64>,
    pub n: usize,
    pub m: usize,
    pub d: usize,
    /// Use the AVX2 build of the row kernel.
    pub simd: bool,
}

impl SqEuclidCosts {
    #[inline(always)]
    fn eval(&self, xi: &[f64], j: usize) -> f64 {
        let mut s = 0.0;
        for (k, &xk) in xi.iter().enumerate() {
            let t = xk - self.yt[k * self.m + j];
            s += t * t;
        }
        s
    }
}

/// Minimum of `f(t)` for `t < len`, over 8 independent lanes so that the loop vectorises.
#[inline(always)]
fn lane_min(len: usize, f: impl Fn(usize) -> f64) -> f64 {
    let mut acc = [f64::INFINITY; 8];
    let full = len / 8 * 8;
    let mut t = 0;
    while t < full {
        for (l, a) in acc.iter_mut().enumerate() {
            let v = f(t + l);
            *a = if v < *a { v } else { *a };
        }
        t += 8;
    }
    for t in full..len {
        let v = f(t);
        acc[0] = if v < acc[0] { v } else { acc[0] };
    }
    acc.iter().fold(f64::INFINITY, |m, &v| if v < m { v } else { m })
}

/// `min_t lane(Σ_k (x_k − y_k[t])², p, t, r)` over `t < p.hh.len()` (`p` restricted to the
/// segment), eight lanes at a time, with the sum evaluated as `((0 + t_0²) + t_1²) + …` like
/// [`SqEuclidCosts::eval`].
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lane-major loops over fixed-size chunks
fn sq_min<const D: usize, const DD: bool>(x: [f64; D], ys: [&[f64]; D], p: &SinkPots<'_>, r: &[f64; 4]) -> f64 {
    let len = p.hh.len();
    let full = len / 8 * 8;
    let mut acc = [f64::INFINITY; 8];
    let mut t = 0;
    while t < full {
        let mut v = [0.0f64; 8];
        for k in 0..D {
            let yk: &[f64; 8] = ys[k][t..t + 8].try_into().expect("chunk of 8");
            for l in 0..8 {
                let a = x[k] - yk[l];
                v[l] += a * a;
            }
        }
        let w = lanes8::<DD>(&v, p, t, r);
        for l in 0..8 {
            acc[l] = if w[l] < acc[l] { w[l] } else { acc[l] };
        }
        t += 8;
    }
    for t in full..len {
        let mut v = 0.0;
        for k in 0..D {
            let a = x[k] - ys[k][t];
            v += a * a;
        }
        let w = lane::<DD>(v, p, t, r);
        acc[0] = if w < acc[0] { w } else { acc[0] };
    }
    acc.iter().fold(f64::INFINITY, |m, &v| if v < m { v } else { m })
}

/// [`sq_min`] compiled for AVX2 (same IEEE operations, wider registers).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sq_min_avx2<const D: usize, const DD: bool>(x: [f64; D], ys: [&[f64]; D], p: &SinkPots<'_>, r: &[f64; 4]) -> f64 {
    sq_min::<D, DD>(x, ys, p, r)
}

/// [`sq_min`] for any dimension: coordinate-major sums over chunks of 64 columns, in the same
/// order as [`SqEuclidCosts::eval`] (`0 + t_0² = t_0²` exactly, so the first coordinate
/// initialises them). `yt[k * stride + t]` is coordinate `k` of column `t`.
#[inline(always)]
fn sq_min_dyn<const DD: bool>(x: &[f64], yt: &[f64], stride: usize, p: &SinkPots<'_>, r: &[f64; 4]) -> f64 {
    const CH: usize = 64;
    let len = p.hh.len();
    let mut best = f64::INFINITY;
    let mut buf = [0.0f64; CH];
    let mut j = 0;
    while j < len {
        let c = CH.min(len - j);
        let acc = &mut buf[..c];
        for (s, &y) in acc.iter_mut().zip(&yt[j..j + c]) {
            let t = x[0] - y;
            *s = t * t;
        }
        for (k, &xk) in x.iter().enumerate().skip(1) {
            for (s, &y) in acc.iter_mut().zip(&yt[k * stride + j..k * stride + j + c]) {
                let t = xk - y;
                *s += t * t;
            }
        }
        let v = lane_min(c, |t| lane::<DD>(acc[t], p, j + t, r));
        best = if v < best { v } else { best };
        j += c;
    }
    best
}

/// [`sq_min_dyn`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sq_min_dyn_avx2<const DD: bool>(x: &[f64], yt: &[f64], stride: usize, p: &SinkPots<'_>, r: &[f64; 4]) -> f64 {
    sq_min_dyn::<DD>(x, yt, stride, p, r)
}

/// Whether the running CPU has AVX2 (checked once per solve).
pub(crate) fn detect_simd() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl SqEuclidCosts {
    #[inline(always)]
    fn dispatch<const D: usize, const DD: bool>(&self, x: [f64; D], ys: [&[f64]; D], p: &SinkPots<'_>, r: &[f64; 4]) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if self.simd {
            // SAFETY: `simd` is true only when the CPU reported AVX2 at run time.
            return unsafe { sq_min_avx2::<D, DD>(x, ys, p, r) };
        }
        sq_min::<D, DD>(x, ys, p, r)
    }
}

impl Costs for SqEuclidCosts {
    fn rows(&self) -> usize {
        self.n
    }
    fn cols(&self) -> usize {
        self.m
    }
    #[inline]
    fn cost(&self, i: usize, j: usize) -> f64 {
        self.eval(&self.x[i * self.d..(i + 1) * self.d], j)
    }
    #[inline]
    fn row_min<const DD: bool>(&self, i: usize, j0: usize, j1: usize, p: &SinkPots<'_>, r: &[f64; 4]) -> f64 {
        let m = self.m;
        let p = &p.range(j0, j1);
        let col = |k: usize| &self.yt[k * m + j0..k * m + j1];
        match self.d {
            1 => self.dispatch::<1, DD>([self.x[i]], [col(0)], p, r),
            2 => self.dispatch::<2, DD>([self.x[2 * i], self.x[2 * i + 1]], [col(0), col(1)], p, r),
            3 => self.dispatch::<3, DD>([self.x[3 * i], self.x[3 * i + 1], self.x[3 * i + 2]], [col(0), col(1), col(2)], p, r),
            4 => self.dispatch::<4, DD>(std::array::from_fn(|k| self.x[4 * i + k]), std::array::from_fn(col), p, r),
            5 => self.dispatch::<5, DD>(std::array::from_fn(|k| self.x[5 * i + k]), std::array::from_fn(col), p, r),
            6 => self.dispatch::<6, DD>(std::array::from_fn(|k| self.x[6 * i + k]), std::array::from_fn(col), p, r),
            8 => self.dispatch::<8, DD>(std::array::from_fn(|k| self.x[8 * i + k]), std::array::from_fn(col), p, r),
            d => {
                let xi = &self.x[i * d..(i + 1) * d];
                #[cfg(target_arch = "x86_64")]
                if self.simd {
                    // SAFETY: `simd` is true only when the CPU reported AVX2 at run time.
                    return unsafe { sq_min_dyn_avx2::<DD>(xi, &self.yt[j0..], m, p, r) };
                }
                sq_min_dyn::<DD>(xi, &self.yt[j0..], m, p, r)
            }
        }
    }
    fn row_find<const DD: bool>(&self, i: usize, j0: usize, j1: usize, p: &SinkPots<'_>, r: &[f64; 4], target: f64) -> usize {
        // The same expression trees as in `row_min`, so equality is exact.
        let xi = &self.x[i * self.d..(i + 1) * self.d];
        (j0..j1).find(|&j| lane::<DD>(self.eval(xi, j), p, j, r) == target).unwrap_or(j0)
    }
}

/// Statistics of one solve.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SolveStats {
    pub pivots: u64,
    pub degenerate_pivots: u64,
}

/// `a + b` as an exact unevaluated sum `(s, e)`, `s = fl(a + b)` (Knuth's TwoSum).
#[inline(always)]
pub(crate) fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// Double-double `(ah + al) + (bh + bl)`, renormalised (relative error `≈ 2u²`).
#[inline(always)]
pub(crate) fn dd_add(ah: f64, al: f64, bh: f64, bl: f64) -> (f64, f64) {
    let (s, e) = two_sum(ah, bh);
    let (t, f) = two_sum(al, bl);
    let (s, e) = two_sum(s, e + t);
    two_sum(s, e + f)
}

/// The solver state: a strongly feasible spanning tree with flows and potentials.
pub(crate) struct Simplex<'c, C: Costs> {
    costs: &'c C,
    n: usize,
    m: usize,
    /// Supplies `a` then demands `b` (for the final recomputation of the flows).
    mass: Vec<f64>,
    parent: Vec<usize>,
    thread: Vec<usize>,
    rev_thread: Vec<usize>,
    succ_num: Vec<usize>,
    last_succ: Vec<usize>,
    /// Flow on the arc between a node and its parent.
    flow: Vec<f64>,
    /// Potentials `π = (hh + hl) + (lh + ll)`: block base `H = hh + hl` and local offset
    /// `L = lh + ll`, each double-double (low parts not renormalised between refreshes). In the
    /// fast phase only `hh` is used.
    hh: Vec<f64>,
    hl: Vec<f64>,
    lh: Vec<f64>,
    ll: Vec<f64>,
    /// An upper bound since the last refresh on `|π|` (fast phase) or on `|L|` (certifying phase).
    pot_bound: f64,
    /// Certifying phase: a node starts a new block when its local offset would exceed this.
    block_jump: f64,
    /// The certifying phase: double-double potentials and per-arc tolerances. Before it, the
    /// fast phase keeps `lo = 0` (plain `f64` potentials) and prices with the plain kernel.
    exact: bool,
    root: usize,
    next_arc: usize,
    block: usize,
    stem: Vec<usize>,
    stem_info: Vec<(usize, usize, usize)>,
    pub stats: SolveStats,
}

/// The optimal basis: tree arcs with their flows, the potentials and the certificate.
pub(crate) struct Solution {
    /// `(i, j, flow)` for the `n + m − 1` basic arcs, flows recomputed from the tree in
    /// double-double and rounded (some may be zero; none is below `−` the mass tolerance, and
    /// negative round-off is clamped to 0).
    pub arcs: Vec<(usize, usize, f64)>,
    /// `π_i` for sources then `π_{n+j}` for sinks, rounded to `f64`; `rc = C_ij − π_i + π_{n+j}`.
    pub pot: Vec<f64>,
    /// `τ`, the absolute part of the optimality tolerance `(κ + 4)u|C_ij| + τ`.
    pub tau: f64,
    pub stats: SolveStats,
}

impl<'c, C: Costs> Simplex<'c, C> {
    /// Builds the north-west-corner start on the given row and column orders.
    ///
    /// `a` and `b` must be positive and (up to rounding) balanced; `row_order` and `col_order`
    /// are permutations of `0..n` and `0..m`.
    pub fn new(costs: &'c C, a: &[f64], b: &[f64], row_order: &[usize], col_order: &[usize]) -> Self {
        let n = costs.rows();
        let m = costs.cols();
        debug_assert!(n >= 1 && m >= 1 && a.len() == n && b.len() == m);
        let nn = n + m;
        // North-west corner along the orders. Exact ties advance the column and put a zero-flow
        // cell at (same row, next column); rooting the resulting path at its far end makes every
        // such arc point from its source (child) up to its sink (parent), as strong feasibility
        // requires (zero-flow arcs point towards the root).
        let mut cells: Vec<(usize, usize, f64)> = Vec::with_capacity(nn - 1);
        let (mut r, mut c) = (0usize, 0usize);
        let mut ra = a[row_order[0]];
        let mut rb = b[col_order[0]];
        loop {
            let (i, j) = (row_order[r], col_order[c]);
            if r == n - 1 && c == m - 1 {
                cells.push((i, j, (0.5 * (ra + rb)).max(0.0)));
                break;
            }
            if r == n - 1 {
                cells.push((i, j, rb.max(0.0)));
                ra -= rb;
                c += 1;
                rb = b[col_order[c]];
            } else if c == m - 1 {
                cells.push((i, j, ra.max(0.0)));
                rb -= ra;
                r += 1;
                ra = a[row_order[r]];
            } else if ra < rb {
                cells.push((i, j, ra));
                rb -= ra;
                r += 1;
                ra = a[row_order[r]];
            } else if rb < ra {
                cells.push((i, j, rb));
                ra -= rb;
                c += 1;
                rb = b[col_order[c]];
            } else {
                cells.push((i, j, ra));
                c += 1;
                rb = b[col_order[c]];
                ra = 0.0;
            }
        }
        // Root: the sink of the last cell. Along the path, later nodes are then ancestors of
        // earlier ones, and the only other branch is the last source hanging below the root.
        let root = n + cells[cells.len() - 1].1;

        // Adjacency of the path/tree, then an iterative DFS from the root.
        let mut deg = vec![0usize; nn + 1];
        for &(i, j, _) in &cells {
            deg[i + 1] += 1;
            deg[n + j + 1] += 1;
        }
        for v in 0..nn {
            deg[v + 1] += deg[v];
        }
        let mut fill = deg.clone();
        let mut adj = vec![(0usize, 0.0f64); 2 * cells.len()];
        for &(i, j, f) in &cells {
            adj[fill[i]] = (n + j, f);
            fill[i] += 1;
            adj[fill[n + j]] = (i, f);
            fill[n + j] += 1;
        }
        let mut parent = vec![NONE; nn];
        let mut flow = vec![0.0; nn];
        let mut order = Vec::with_capacity(nn);
        let mut stack = vec![root];
        let mut seen = vec![false; nn];
        seen[root] = true;
        while let Some(v) = stack.pop() {
            order.push(v);
            for &(w, f) in &adj[deg[v]..deg[v + 1]] {
                if !seen[w] {
                    seen[w] = true;
                    parent[w] = v;
                    flow[w] = f;
                    stack.push(w);
                }
            }
        }
        debug_assert_eq!(order.len(), nn, "the initial basis must span all nodes");
        let mut thread = vec![NONE; nn];
        let mut rev_thread = vec![NONE; nn];
        for k in 0..nn {
            let v = order[k];
            let w = order[(k + 1) % nn];
            thread[v] = w;
            rev_thread[w] = v;
        }
        let mut succ_num = vec![1usize; nn];
        for &v in order.iter().rev() {
            if parent[v] != NONE {
                succ_num[parent[v]] += succ_num[v];
            }
        }
        let mut pos = vec![0usize; nn];
        for (k, &v) in order.iter().enumerate() {
            pos[v] = k;
        }
        let last_succ = (0..nn).map(|v| order[pos[v] + succ_num[v] - 1]).collect();

        let arcs = n * m;
        let block = ((arcs as f64).sqrt() as usize).clamp(16.min(arcs), arcs);
        let mut s = Simplex {
            costs,
            n,
            m,
            mass: a.iter().chain(b).copied().collect(),
            parent,
            thread,
            rev_thread,
            succ_num,
            last_succ,
            flow,
            hh: vec![0.0; nn],
            hl: vec![0.0; nn],
            lh: vec![0.0; nn],
            ll: vec![0.0; nn],
            pot_bound: 0.0,
            block_jump: 0.0,
            exact: false,
            root,
            next_arc: 0,
            block,
            stem: Vec::new(),
            stem_info: Vec::new(),
            stats: SolveStats::default(),
        };
        s.refresh_potentials();
        s
    }

    /// The cost of the tree arc between `v` and its parent, signed so that `π_v = π_parent + c`.
    #[inline]
    fn tree_cost(&self, v: usize) -> f64 {
        let (n, p) = (self.n, self.parent[v]);
        // Arc v → p: C − π_v + π_p = 0; arc p → v: C − π_p + π_v = 0.
        if v < n { self.costs.cost(v, p - n) } else { -self.costs.cost(p, v - n) }
    }

    /// Recomputes all potentials from the tree (root potential 0), in preorder: `π_v = π_p + c`.
    ///
    /// Fast phase: plain `f64` in `hh`. Certifying phase: `L_v = L_p + c` in double-double
    /// within the parent's block, unless `|L_p + c|` exceeds `block_jump = 2²⁶ σ` (`σ` the mean
    /// cost per unit of flow on the tree); then `v` starts a new block with base
    /// `H_v = H_p + L_p + c` (double-double) and `L_v = 0`. Across a huge arc (two far clusters)
    /// the whole far cluster thus shares one base, the huge offset cancels exactly in every
    /// reduced cost inside it, and local offsets keep `≈ 32` digits of the local costs.
    fn refresh_potentials(&mut self) {
        let root = self.root;
        self.hh[root] = 0.0;
        self.hl[root] = 0.0;
        self.lh[root] = 0.0;
        self.ll[root] = 0.0;
        let mut bound = 0.0f64;
        if !self.exact {
            let mut v = self.thread[root];
            while v != root {
                let h = self.hh[self.parent[v]] + self.tree_cost(v);
                self.hh[v] = h;
                bound = bound.max(h.abs());
                v = self.thread[v];
            }
            self.pot_bound = bound;
            return;
        }
        // σ: mean cost per unit of flow on the tree arcs.
        let (mut fc, mut f) = (0.0f64, 0.0f64);
        let mut v = self.thread[root];
        while v != root {
            if self.flow[v] > 0.0 {
                fc += self.flow[v] * self.tree_cost(v).abs();
                f += self.flow[v];
            }
            v = self.thread[v];
        }
        self.block_jump = if f > 0.0 { BLOCK_RATIO * (fc / f) } else { 0.0 };
        let mut v = self.thread[root];
        while v != root {
            let p = self.parent[v];
            let c = self.tree_cost(v);
            let (s, e) = two_sum(self.lh[p], c);
            let (ch, cl) = two_sum(s, e + self.ll[p]);
            if ch.abs() <= self.block_jump {
                self.hh[v] = self.hh[p];
                self.hl[v] = self.hl[p];
                self.lh[v] = ch;
                self.ll[v] = cl;
                bound = bound.max(ch.abs());
            } else {
                let (h, l) = dd_add(self.hh[p], self.hl[p], ch, cl);
                self.hh[v] = h;
                self.hl[v] = l;
                self.lh[v] = 0.0;
                self.ll[v] = 0.0;
            }
            v = self.thread[v];
        }
        self.pot_bound = bound;
    }

    /// `τ = 8u²·P·(n + m + 512)`, `P ≥ max |L|`: bounds the double-double error of
    /// `L_{n+j} − L_i` (tree paths of at most `n + m` steps, up to 256 shifts since the last
    /// refresh) and the `u²` terms of the `f64` evaluation of [`price`] within a block.
    fn tau(&self) -> f64 {
        8.0 * UNIT * UNIT * self.pot_bound * (self.n + self.m + 512) as f64
    }

    /// `rc(i, j) = C_ij − π_i + π_{n+j}` in double-double (the base difference is exactly 0
    /// within a block).
    fn reduced_cost(&self, i: usize, j: usize) -> (f64, f64) {
        let s = self.n + j;
        let (bh, bl) = dd_add(self.hh[s], self.hl[s], -self.hh[i], -self.hl[i]);
        let (lh, ll) = dd_add(self.lh[s], self.ll[s], -self.lh[i], -self.ll[i]);
        let (dh, dl) = dd_add(bh, bl, lh, ll);
        dd_add(dh, dl, self.costs.cost(i, j), 0.0)
    }

    /// The potential `π_v`, rounded to `f64`.
    fn potential(&self, v: usize) -> f64 {
        let (h, l) = dd_add(self.hh[v], self.hl[v], self.lh[v], self.ll[v]);
        h + l
    }

    #[inline]
    fn is_tree_arc(&self, i: usize, j: usize) -> bool {
        self.parent[i] == self.n + j || self.parent[self.n + j] == i
    }

    /// Block search for an entering arc; `None` after a full pass without one. Returns the arc
    /// and its pricing value.
    fn find_entering(&mut self) -> Option<(usize, usize, f64)> {
        if self.exact { self.find_entering_in::<true>() } else { self.find_entering_in::<false>() }
    }

    /// [`Self::find_entering`] in one phase: an arc qualifies when its [`price`] is `< −τ`
    /// (`DD`), or in the fast phase when `C + π_{n+j} − π_i < −1e-14·P` in plain `f64`
    /// (`P ≥ max |π|`; about 45 ulps of the potentials, the old absolute rule, which only
    /// steers: the certifying phase decides optimality).
    fn find_entering_in<const DD: bool>(&mut self) -> Option<(usize, usize, f64)> {
        let (n, m) = (self.n, self.m);
        let total = n * m;
        let p = SinkPots { hh: &self.hh[n..], hl: &self.hl[n..], lh: &self.lh[n..], ll: &self.ll[n..] };
        let mut best = if DD { -self.tau() } else { -1e-14 * self.pot_bound };
        let mut best_raw = f64::INFINITY;
        let mut best_at: Option<(usize, usize, usize)> = None;
        let mut e = self.next_arc;
        let mut scanned = 0usize;
        let mut in_block = 0usize;
        while scanned < total {
            let i = e / m;
            let j0 = e - i * m;
            // Segments of at most SEG arcs keep the exact re-scan in `row_find` short.
            const SEG: usize = 256;
            let len = (m - j0).min(self.block - in_block).min(total - scanned).min(SEG);
            let j1 = j0 + len;
            let r = [self.hh[i], self.hl[i], self.lh[i], self.ll[i]];
            let raw = self.costs.row_min::<DD>(i, j0, j1, &p, &r);
            let v = finish::<DD>(raw, r[0]);
            if v < best {
                best = v;
                best_raw = raw;
                best_at = Some((i, j0, j1));
            }
            scanned += len;
            in_block += len;
            e += len;
            if e == total {
                e = 0;
            }
            if in_block >= self.block {
                if best_at.is_some() {
                    break;
                }
                in_block = 0;
            }
        }
        self.next_arc = e;
        let (i, j0, j1) = best_at?;
        let r = [self.hh[i], self.hl[i], self.lh[i], self.ll[i]];
        let j = self.costs.row_find::<DD>(i, j0, j1, &p, &r, best_raw);
        Some((i, j, best))
    }

    /// Runs pivots until no arc has [`price`] `< −τ` under freshly recomputed potentials, then
    /// recomputes the basic flows and checks the certificate.
    pub fn solve(mut self, max_pivots: u64) -> Result<Solution> {
        const REFRESH_EVERY: u64 = 256;
        let mut since_refresh = 0u64;
        loop {
            let entering = self.find_entering();
            let Some((i, j, w)) = entering else {
                if !self.exact {
                    // Fast phase done: switch to block double-double potentials and certify.
                    self.exact = true;
                } else if since_refresh == 0 {
                    break;
                }
                // Certify with exact potentials: recompute and scan again.
                self.refresh_potentials();
                since_refresh = 0;
                continue;
            };
            let rc = self.reduced_cost(i, j);
            if self.is_tree_arc(i, j) || rc.0 >= 0.0 {
                // Only possible through accumulated rounding in the potentials.
                if since_refresh == 0 {
                    return Err(MetricsError::NotConverged {
                        what: "network simplex",
                        reason: format!("arc ({i}, {j}) priced at {w:e} (reduced cost {:e}) with fresh potentials", rc.0),
                    });
                }
                self.refresh_potentials();
                since_refresh = 0;
                continue;
            }
            if self.stats.pivots >= max_pivots {
                return Err(MetricsError::NotConverged { what: "network simplex", reason: format!("pivot limit {max_pivots} reached") });
            }
            self.pivot(i, j, rc);
            since_refresh += 1;
            if since_refresh >= REFRESH_EVERY {
                self.refresh_potentials();
                since_refresh = 0;
            }
        }
        self.certify()
    }

    /// Recomputes the basic flows from the tree and the masses in double-double, checks primal
    /// feasibility and complementary slackness, and packs the solution. Dual feasibility was
    /// established by the last full pricing pass (every arc has `price ≥ −τ` under these
    /// potentials).
    fn certify(self) -> Result<Solution> {
        let (n, nn) = (self.n, self.n + self.m);
        let tau = self.tau();
        // Net supply of each subtree, children before parents (reverse preorder).
        let mut sub: Vec<(f64, f64)> = (0..nn).map(|v| (if v < n { self.mass[v] } else { -self.mass[v] }, 0.0)).collect();
        let mut order = Vec::with_capacity(nn);
        let mut v = self.root;
        for _ in 0..nn {
            order.push(v);
            v = self.thread[v];
        }
        for &v in order.iter().rev() {
            let p = self.parent[v];
            if p != NONE {
                let (h, l) = sub[v];
                sub[p] = dd_add(sub[p].0, sub[p].1, h, l);
            }
        }
        // Tolerance on masses: the imbalance Σa − Σb (absorbed at the root) plus round-off.
        let imbalance = (sub[self.root].0 + sub[self.root].1).abs();
        let max_mass = self.mass.iter().fold(0.0f64, |s, &t| s.max(t));
        let mass_tol = imbalance + 4.0 * UNIT * nn as f64 * max_mass;
        let mut arcs = Vec::with_capacity(nn - 1);
        for (v, &(sh, sl)) in sub.iter().enumerate() {
            let p = self.parent[v];
            if p == NONE {
                continue;
            }
            // Source v: arc v → p carries the subtree's net supply out; sink v: arc p → v brings
            // its net demand in.
            let (i, j, f) = if v < n { (v, p - n, sh + sl) } else { (p, v - n, -(sh + sl)) };
            if f.is_nan() || f < -mass_tol {
                return Err(MetricsError::NotConverged {
                    what: "network simplex certificate",
                    reason: format!("basic flow on ({i}, {j}) is {f:e}, below the mass tolerance −{mass_tol:e}"),
                });
            }
            let f = f.max(0.0);
            if f > 0.0 {
                let c = self.costs.cost(i, j);
                let rc = self.reduced_cost(i, j);
                let tol = (KAPPA + 4.0) * UNIT * c.abs() + tau;
                if (rc.0 + rc.1).is_nan() || (rc.0 + rc.1).abs() > tol {
                    return Err(MetricsError::NotConverged {
                        what: "network simplex certificate",
                        reason: format!("complementary slackness fails on ({i}, {j}): reduced cost {:e}, tolerance {tol:e}", rc.0 + rc.1),
                    });
                }
            }
            arcs.push((i, j, f));
        }
        let pot = (0..nn).map(|v| self.potential(v)).collect();
        Ok(Solution { arcs, pot, tau, stats: self.stats })
    }

    /// One pivot on the entering arc `i → j` of reduced cost `rc < 0` (double-double).
    fn pivot(&mut self, i: usize, j: usize, rc: (f64, f64)) {
        let n = self.n;
        let sink = n + j;
        // Apex of the cycle: climb from whichever side has the smaller subtree.
        let (mut u, mut v) = (i, sink);
        while u != v {
            if self.succ_num[u] < self.succ_num[v] {
                u = self.parent[u];
            } else {
                v = self.parent[v];
            }
        }
        let join = u;
        // Ratio test, Cunningham's rule. Orient the cycle join → … → i → sink → … → join.
        // Blocking arcs (flow decreases): on the i side the arcs of source nodes, on the sink side
        // the arcs of sink nodes. The last blocking arc in cycle order leaves: on the sink side
        // the one nearest the join (`<=` while climbing), else on the i side the one nearest i
        // (`<` while climbing).
        let mut delta = f64::INFINITY;
        let mut u_out = NONE;
        let mut out_on_source_side = true;
        let mut w = i;
        while w != join {
            if w < n && self.flow[w] < delta {
                delta = self.flow[w];
                u_out = w;
            }
            w = self.parent[w];
        }
        w = sink;
        while w != join {
            if w >= n && self.flow[w] <= delta {
                delta = self.flow[w];
                u_out = w;
                out_on_source_side = false;
            }
            w = self.parent[w];
        }
        self.stats.pivots += 1;
        if delta > 0.0 {
            let mut w = i;
            while w != join {
                if w < n {
                    self.flow[w] -= delta;
                } else {
                    self.flow[w] += delta;
                }
                w = self.parent[w];
            }
            w = sink;
            while w != join {
                if w >= n {
                    self.flow[w] -= delta;
                } else {
                    self.flow[w] += delta;
                }
                w = self.parent[w];
            }
        } else {
            self.stats.degenerate_pivots += 1;
        }
        let (u_in, v_in, shift) = if out_on_source_side { (i, sink, rc) } else { (sink, i, (-rc.0, -rc.1)) };
        self.rehang(u_in, v_in, u_out, join, delta);
        self.shift_potentials(u_in, shift);
    }

    /// Removes the tree arc above `u_out`, re-roots the detached subtree at `u_in` (a descendant
    /// of `u_out`) and hangs it below `v_in` with flow `delta` on the new arc.
    fn rehang(&mut self, u_in: usize, v_in: usize, u_out: usize, join: usize, delta: f64) {
        // Stem s_0 = u_in, …, s_k = u_out, and the old values the thread surgery needs.
        self.stem.clear();
        let mut w = u_in;
        self.stem.push(w);
        while w != u_out {
            w = self.parent[w];
            self.stem.push(w);
        }
        let k = self.stem.len() - 1;
        let t2_size = self.succ_num[u_out];
        let old_end = self.last_succ[u_out];
        let old_parent = self.parent[u_out];
        // For t = 1..=k: (rev_thread[s_{t−1}], thread[last_succ[s_{t−1}]] or NONE if piece B_t
        // is empty, last_succ[s_t]).
        self.stem_info.clear();
        for t in 1..=k {
            let prev = self.stem[t - 1];
            let st = self.stem[t];
            let lp = self.last_succ[prev];
            let ls = self.last_succ[st];
            let b_start = if lp != ls { self.thread[lp] } else { NONE };
            self.stem_info.push((self.rev_thread[prev], b_start, ls));
        }
        let first_end = self.last_succ[u_in];

        // 1. Cut the old segment [u_out .. old_end] out of the preorder.
        let before = self.rev_thread[u_out];
        let after = self.thread[old_end];
        self.link(before, after);
        self.replace_last_succ(old_parent, old_end, before);

        // 2. Chain the new preorder of the re-rooted subtree: the whole old subtree of s_0, then
        //    for each t the pieces A_t = [s_t .. rev_thread[s_{t−1}]] and
        //    B_t = [thread[last_succ[s_{t−1}]] .. last_succ[s_t]].
        let mut cur = first_end;
        for t in 1..=k {
            let (a_end, b_start, ls) = self.stem_info[t - 1];
            let st = self.stem[t];
            self.link(cur, st);
            cur = a_end;
            if b_start != NONE {
                self.link(cur, b_start);
                cur = ls;
            }
        }
        let new_last = cur;

        // 3. Splice it in right after v_in.
        let nxt = self.thread[v_in];
        self.link(v_in, u_in);
        self.link(new_last, nxt);
        self.replace_last_succ(v_in, v_in, new_last);

        // 4. Subtree sizes on the two paths below the apex (outside the moved subtree).
        let mut a = old_parent;
        while a != join {
            self.succ_num[a] -= t2_size;
            a = self.parent[a];
        }
        let mut b = v_in;
        while b != join {
            self.succ_num[b] += t2_size;
            b = self.parent[b];
        }

        // 5. Reverse the stem: parents, flows, sizes and last descendants.
        for t in (1..=k).rev() {
            let st = self.stem[t];
            let prev = self.stem[t - 1];
            self.parent[st] = prev;
            self.flow[st] = self.flow[prev];
            self.succ_num[st] = t2_size - self.succ_num[prev];
            self.last_succ[st] = new_last;
        }
        self.parent[u_in] = v_in;
        self.flow[u_in] = delta;
        self.succ_num[u_in] = t2_size;
        self.last_succ[u_in] = new_last;
    }

    /// Makes `b` follow `a` in the preorder thread.
    #[inline]
    fn link(&mut self, a: usize, b: usize) {
        self.thread[a] = b;
        self.rev_thread[b] = a;
    }

    /// Walking up from `start`, gives every ancestor whose last descendant is `old` the last
    /// descendant `new` (stopping at the first that differs).
    #[inline]
    fn replace_last_succ(&mut self, start: usize, old: usize, new: usize) {
        let mut a = start;
        while a != NONE && self.last_succ[a] == old {
            self.last_succ[a] = new;
            a = self.parent[a];
        }
    }

    /// Adds `shift` (double-double) to the potentials of the subtree rooted at `top` (or
    /// `−shift` to all the other nodes, whichever set is smaller). Certifying phase: a shift up to
    /// `block_jump` goes to the local offsets, a larger one to the block bases; the high part is
    /// added exactly (TwoSum) and its error goes to the low part, renormalised at the next
    /// refresh.
    fn shift_potentials(&mut self, top: usize, shift: (f64, f64)) {
        let size = self.succ_num[top];
        let nn = self.n + self.m;
        let (exact, local) = (self.exact, shift.0.abs() <= self.block_jump);
        if local || !exact {
            self.pot_bound += shift.0.abs();
        }
        let (hh, hl, lh, ll) = (&mut self.hh, &mut self.hl, &mut self.lh, &mut self.ll);
        let mut add = |w: usize, sh: f64, sl: f64| {
            if !exact {
                hh[w] += sh;
                return;
            }
            let (h, l) = if local { (&mut lh[w], &mut ll[w]) } else { (&mut hh[w], &mut hl[w]) };
            let (s, e) = two_sum(*h, sh);
            *h = s;
            *l += e + sl;
        };
        if 2 * size <= nn {
            let mut w = top;
            for _ in 0..size {
                add(w, shift.0, shift.1);
                w = self.thread[w];
            }
        } else {
            let mut w = self.thread[self.last_succ[top]];
            while w != top {
                add(w, -shift.0, -shift.1);
                w = self.thread[w];
            }
        }
    }

    /// Checks every structural invariant of the tree (debug and tests only).
    #[cfg(test)]
    pub fn check_invariants(&self) {
        let nn = self.n + self.m;
        let mut order = Vec::with_capacity(nn);
        let mut v = self.root;
        for _ in 0..nn {
            order.push(v);
            v = self.thread[v];
        }
        assert_eq!(v, self.root, "thread is not a cycle of all nodes");
        let mut pos = vec![NONE; nn];
        for (k, &v) in order.iter().enumerate() {
            assert_eq!(pos[v], NONE, "node visited twice");
            pos[v] = k;
            assert_eq!(self.rev_thread[self.thread[v]], v);
        }
        let mut size = vec![1usize; nn];
        for &v in order.iter().rev() {
            if self.parent[v] != NONE {
                assert!(pos[self.parent[v]] < pos[v], "parent after child in preorder");
                size[self.parent[v]] += size[v];
            }
        }
        for v in 0..nn {
            assert_eq!(size[v], self.succ_num[v], "succ_num of {v}");
            assert_eq!(order[pos[v] + size[v] - 1], self.last_succ[v], "last_succ of {v}");
            if v != self.root {
                assert!((v < self.n) != (self.parent[v] < self.n), "tree arc within one side");
                assert!(self.flow[v] >= 0.0);
                if self.flow[v] == 0.0 {
                    assert!(v < self.n, "zero-flow arc pointing away from the root: not strongly feasible");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(state: &mut u64) -> f64 {
        *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((*state >> 11) as f64) / ((1u64 << 53) as f64)
    }

    #[test]
    fn invariants_hold_along_the_pivots() {
        for seed in 0..40u64 {
            let mut st = seed + 1;
            let n = 2 + (seed as usize % 7);
            let m = 1 + (seed as usize * 3 % 9);
            let c: Vec<f64> = (0..n * m).map(|_| (lcg(&mut st) * 10.0).floor()).collect();
            let costs = DenseCosts { c, n, m, simd: detect_simd() };
            let (a, b) = if seed % 2 == 0 {
                (vec![1.0 / n as f64; n], vec![1.0 / m as f64; m])
            } else {
                let mut a: Vec<f64> = (0..n).map(|_| 0.1 + lcg(&mut st)).collect();
                let mut b: Vec<f64> = (0..m).map(|_| 0.1 + lcg(&mut st)).collect();
                let (sa, sb): (f64, f64) = (a.iter().sum(), b.iter().sum());
                a.iter_mut().for_each(|t| *t /= sa);
                b.iter_mut().for_each(|t| *t /= sb);
                (a, b)
            };
            let ro: Vec<usize> = (0..n).collect();
            let co: Vec<usize> = (0..m).rev().collect();
            let mut s = Simplex::new(&costs, &a, &b, &ro, &co);
            // Half the seeds run every pivot in the certifying phase (block potentials).
            s.exact = seed % 4 < 2;
            s.check_invariants();
            for _ in 0..1000 {
                s.refresh_potentials();
                let Some((i, j, _)) = s.find_entering() else { break };
                let rc = s.reduced_cost(i, j);
                assert!(rc.0 < 0.0, "entering arc with reduced cost {rc:?}");
                s.pivot(i, j, rc);
                s.check_invariants();
            }
            s.refresh_potentials();
            assert!(s.find_entering().is_none(), "not optimal after 1000 pivots (seed {seed})");
            if s.exact {
                let sol = s.certify().expect("certificate");
                assert_eq!(sol.arcs.len(), n + m - 1);
            }
        }
    }

    #[test]
    fn double_double_helpers_are_exact() {
        // TwoSum: s + e equals a + b exactly, e.g. 1 + 2^-60.
        let (s, e) = two_sum(1.0, 2f64.powi(-60));
        assert_eq!((s, e), (1.0, 2f64.powi(-60)));
        let (h, l) = dd_add(1e30, 1e14, -1e30, 0.5);
        assert_eq!(h + l, 1e14 + 0.5);
    }
}
