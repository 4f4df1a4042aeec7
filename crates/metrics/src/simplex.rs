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
//!   `√(nm)` arcs, and the most negative reduced cost of the first block holding one enters.
//! * **Ratio test.** Cunningham's rule (last blocking arc of the cycle oriented along the entering
//!   arc from its apex), which keeps the tree strongly feasible and rules out cycling.
//! * **Potentials.** `rc(i, j) = C_ij − π_i + π_{n+j}`; a pivot shifts the potentials of one side
//!   of the cut by a constant (whichever side is smaller). They are recomputed exactly from the
//!   tree every few hundred pivots and before optimality is declared, so that the final
//!   certificate (all `rc ≥ −ε`) does not depend on accumulated rounding.

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
    /// `min_{j0 ≤ j < j1} C_ij + shift[j]`, computed as `C_ij + shift[j]` for each `j`.
    fn row_min(&self, i: usize, j0: usize, j1: usize, shift: &[f64]) -> f64;
    /// The first `j` in `j0..j1` whose `C_ij + shift[j]` equals `target` bit for bit.
    fn row_find(&self, i: usize, j0: usize, j1: usize, shift: &[f64], target: f64) -> usize;
    /// An upper bound on `max |C_ij|` (sets the tolerance scale).
    fn scale(&self) -> f64;
}

/// A dense row-major cost matrix.
pub(crate) struct DenseCosts {
    pub c: Vec<f64>,
    pub n: usize,
    pub m: usize,
    pub max_abs: f64,
    /// Use the AVX2 build of the row kernel.
    pub simd: bool,
}

/// `min_t row[t] + sh[t]`, eight lanes at a time.
#[inline(always)]
fn dense_min(row: &[f64], sh: &[f64]) -> f64 {
    let len = row.len().min(sh.len());
    let full = len / 8 * 8;
    let mut acc = [f64::INFINITY; 8];
    let mut t = 0;
    while t < full {
        let r: &[f64; 8] = row[t..t + 8].try_into().expect("chunk of 8");
        let s: &[f64; 8] = sh[t..t + 8].try_into().expect("chunk of 8");
        for l in 0..8 {
            let w = r[l] + s[l];
            acc[l] = if w < acc[l] { w } else { acc[l] };
        }
        t += 8;
    }
    for t in full..len {
        let w = row[t] + sh[t];
        acc[0] = if w < acc[0] { w } else { acc[0] };
    }
    acc.iter().fold(f64::INFINITY, |m, &v| if v < m { v } else { m })
}

/// [`dense_min`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dense_min_avx2(row: &[f64], sh: &[f64]) -> f64 {
    dense_min(row, sh)
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
    fn row_min(&self, i: usize, j0: usize, j1: usize, shift: &[f64]) -> f64 {
        let row = &self.c[i * self.m + j0..i * self.m + j1];
        let sh = &shift[j0..j1];
        #[cfg(target_arch = "x86_64")]
        if self.simd {
            // SAFETY: `simd` is true only when the CPU reported AVX2 at run time.
            return unsafe { dense_min_avx2(row, sh) };
        }
        dense_min(row, sh)
    }
    fn row_find(&self, i: usize, j0: usize, j1: usize, shift: &[f64], target: f64) -> usize {
        let row = &self.c[i * self.m..(i + 1) * self.m];
        (j0..j1).find(|&j| row[j] + shift[j] == target).unwrap_or(j0)
    }
    fn scale(&self) -> f64 {
        self.max_abs
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
    pub bound: f64,
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

/// `min_t (Σ_k (x_k − y_k[t])²) + sh[t]` over `t < sh.len()`, eight lanes at a time, with the
/// sum evaluated as `((0 + t_0²) + t_1²) + …` like [`SqEuclidCosts::eval`].
#[inline(always)]
fn sq_min<const D: usize>(x: [f64; D], ys: [&[f64]; D], sh: &[f64]) -> f64 {
    let len = sh.len();
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
        let s: &[f64; 8] = sh[t..t + 8].try_into().expect("chunk of 8");
        for l in 0..8 {
            let w = v[l] + s[l];
            acc[l] = if w < acc[l] { w } else { acc[l] };
        }
        t += 8;
    }
    for t in full..len {
        let mut v = 0.0;
        for k in 0..D {
            let a = x[k] - ys[k][t];
            v += a * a;
        }
        let w = v + sh[t];
        acc[0] = if w < acc[0] { w } else { acc[0] };
    }
    acc.iter().fold(f64::INFINITY, |m, &v| if v < m { v } else { m })
}

/// [`sq_min`] compiled for AVX2 (same IEEE operations, wider registers).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sq_min_avx2<const D: usize>(x: [f64; D], ys: [&[f64]; D], sh: &[f64]) -> f64 {
    sq_min::<D>(x, ys, sh)
}

/// [`sq_min`] for any dimension: coordinate-major sums over chunks of 64 columns, in the same
/// order as [`SqEuclidCosts::eval`] (`0 + t_0² = t_0²` exactly, so the first coordinate
/// initialises them). `yt[k * stride + t]` is coordinate `k` of column `t`.
#[inline(always)]
fn sq_min_dyn(x: &[f64], yt: &[f64], stride: usize, sh: &[f64]) -> f64 {
    const CH: usize = 64;
    let len = sh.len();
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
        let v = lane_min(c, |t| acc[t] + sh[j + t]);
        best = if v < best { v } else { best };
        j += c;
    }
    best
}

/// [`sq_min_dyn`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sq_min_dyn_avx2(x: &[f64], yt: &[f64], stride: usize, sh: &[f64]) -> f64 {
    sq_min_dyn(x, yt, stride, sh)
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
    fn dispatch<const D: usize>(&self, x: [f64; D], ys: [&[f64]; D], sh: &[f64]) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if self.simd {
            // SAFETY: `simd` is true only when the CPU reported AVX2 at run time.
            return unsafe { sq_min_avx2::<D>(x, ys, sh) };
        }
        sq_min::<D>(x, ys, sh)
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
    fn row_min(&self, i: usize, j0: usize, j1: usize, shift: &[f64]) -> f64 {
        let m = self.m;
        let sh = &shift[j0..j1];
        let col = |k: usize| &self.yt[k * m + j0..k * m + j1];
        match self.d {
            1 => self.dispatch::<1>([self.x[i]], [col(0)], sh),
            2 => self.dispatch::<2>([self.x[2 * i], self.x[2 * i + 1]], [col(0), col(1)], sh),
            3 => self.dispatch::<3>([self.x[3 * i], self.x[3 * i + 1], self.x[3 * i + 2]], [col(0), col(1), col(2)], sh),
            4 => self.dispatch::<4>(std::array::from_fn(|k| self.x[4 * i + k]), std::array::from_fn(col), sh),
            5 => self.dispatch::<5>(std::array::from_fn(|k| self.x[5 * i + k]), std::array::from_fn(col), sh),
            6 => self.dispatch::<6>(std::array::from_fn(|k| self.x[6 * i + k]), std::array::from_fn(col), sh),
            8 => self.dispatch::<8>(std::array::from_fn(|k| self.x[8 * i + k]), std::array::from_fn(col), sh),
            d => {
                let xi = &self.x[i * d..(i + 1) * d];
                #[cfg(target_arch = "x86_64")]
                if self.simd {
                    // SAFETY: `simd` is true only when the CPU reported AVX2 at run time.
                    return unsafe { sq_min_dyn_avx2(xi, &self.yt[j0..], m, sh) };
                }
                sq_min_dyn(xi, &self.yt[j0..], m, sh)
            }
        }
    }
    fn row_find(&self, i: usize, j0: usize, j1: usize, shift: &[f64], target: f64) -> usize {
        // The same expression trees as in `row_min`, so equality is exact.
        let xi = &self.x[i * self.d..(i + 1) * self.d];
        (j0..j1).find(|&j| self.eval(xi, j) + shift[j] == target).unwrap_or(j0)
    }
    fn scale(&self) -> f64 {
        self.bound
    }
}

/// Statistics of one solve.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SolveStats {
    pub pivots: u64,
    pub degenerate_pivots: u64,
}

/// The solver state: a strongly feasible spanning tree with flows and potentials.
pub(crate) struct Simplex<'c, C: Costs> {
    costs: &'c C,
    n: usize,
    m: usize,
    parent: Vec<usize>,
    thread: Vec<usize>,
    rev_thread: Vec<usize>,
    succ_num: Vec<usize>,
    last_succ: Vec<usize>,
    /// Flow on the arc between a node and its parent.
    flow: Vec<f64>,
    pot: Vec<f64>,
    root: usize,
    next_arc: usize,
    block: usize,
    eps: f64,
    stem: Vec<usize>,
    stem_info: Vec<(usize, usize, usize)>,
    pub stats: SolveStats,
}

/// The optimal basis: tree arcs with their flows, and the potentials.
pub(crate) struct Solution {
    /// `(i, j, flow)` for the `n + m − 1` basic arcs (some flows may be zero).
    pub arcs: Vec<(usize, usize, f64)>,
    /// `π_i` for sources then `π_{n+j}` for sinks; `rc = C_ij − π_i + π_{n+j}`.
    pub pot: Vec<f64>,
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
        // ε: far above the rounding noise of `C − π + π` (a few ulps of the cost scale) and far
        // below any reduced cost that matters.
        let eps = 1e-14 * costs.scale().max(f64::MIN_POSITIVE);
        let mut s = Simplex {
            costs,
            n,
            m,
            parent,
            thread,
            rev_thread,
            succ_num,
            last_succ,
            flow,
            pot: vec![0.0; nn],
            root,
            next_arc: 0,
            block,
            eps,
            stem: Vec::new(),
            stem_info: Vec::new(),
            stats: SolveStats::default(),
        };
        s.refresh_potentials();
        s
    }

    /// Recomputes all potentials from the tree (root potential 0), in preorder.
    fn refresh_potentials(&mut self) {
        let n = self.n;
        self.pot[self.root] = 0.0;
        let mut v = self.thread[self.root];
        while v != self.root {
            let p = self.parent[v];
            self.pot[v] = if v < n {
                // Arc v → p: C − π_v + π_p = 0.
                self.costs.cost(v, p - n) + self.pot[p]
            } else {
                // Arc p → v: C − π_p + π_v = 0.
                self.pot[p] - self.costs.cost(p, v - n)
            };
            v = self.thread[v];
        }
    }

    #[inline]
    fn is_tree_arc(&self, i: usize, j: usize) -> bool {
        self.parent[i] == self.n + j || self.parent[self.n + j] == i
    }

    /// Block search for an entering arc with `rc < −ε`; `None` after a full pass without one.
    fn find_entering(&mut self) -> Option<(usize, usize, f64)> {
        let (n, m) = (self.n, self.m);
        let total = n * m;
        let shift = &self.pot[n..];
        let mut best = -self.eps;
        let mut best_at: Option<(usize, usize, usize, f64)> = None;
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
            let raw = self.costs.row_min(i, j0, j1, shift);
            let v = raw - self.pot[i];
            if v < best {
                best = v;
                best_at = Some((i, j0, j1, raw));
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
        let (i, j0, j1, raw) = best_at?;
        let j = self.costs.row_find(i, j0, j1, shift, raw);
        Some((i, j, best))
    }

    /// Runs pivots until no arc has `rc < −ε` under freshly recomputed potentials.
    pub fn solve(mut self, max_pivots: u64) -> Result<Solution> {
        const REFRESH_EVERY: u64 = 256;
        let mut since_refresh = 0u64;
        loop {
            let entering = self.find_entering();
            let Some((i, j, rc)) = entering else {
                if since_refresh == 0 {
                    break;
                }
                // Certify with exact potentials: recompute and scan again.
                self.refresh_potentials();
                since_refresh = 0;
                continue;
            };
            if self.is_tree_arc(i, j) {
                // Only possible through accumulated rounding in the potentials.
                if since_refresh == 0 {
                    return Err(MetricsError::NotConverged {
                        what: "network simplex",
                        reason: format!("tree arc ({i}, {j}) priced at {rc:e} with fresh potentials"),
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
        let n = self.n;
        let mut arcs = Vec::with_capacity(n + self.m - 1);
        for v in 0..n + self.m {
            let p = self.parent[v];
            if p == NONE {
                continue;
            }
            if v < n {
                arcs.push((v, p - n, self.flow[v]));
            } else {
                arcs.push((p, v - n, self.flow[v]));
            }
        }
        Ok(Solution { arcs, pot: self.pot, stats: self.stats })
    }

    /// One pivot on the entering arc `i → j` of reduced cost `rc < 0`.
    fn pivot(&mut self, i: usize, j: usize, rc: f64) {
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
        let (u_in, v_in, shift) = if out_on_source_side { (i, sink, rc) } else { (sink, i, -rc) };
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

    /// Adds `shift` to the potentials of the subtree rooted at `top` (or `−shift` to all the
    /// other nodes, whichever set is smaller).
    fn shift_potentials(&mut self, top: usize, shift: f64) {
        let size = self.succ_num[top];
        let nn = self.n + self.m;
        if 2 * size <= nn {
            let mut w = top;
            for _ in 0..size {
                self.pot[w] += shift;
                w = self.thread[w];
            }
        } else {
            let mut w = self.thread[self.last_succ[top]];
            while w != top {
                self.pot[w] -= shift;
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
            let max_abs = c.iter().fold(0.0f64, |a, &b| a.max(b.abs()));
            let costs = DenseCosts { c, n, m, max_abs, simd: detect_simd() };
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
            s.check_invariants();
            for _ in 0..1000 {
                s.refresh_potentials();
                let Some((i, j, rc)) = s.find_entering() else { break };
                s.pivot(i, j, rc);
                s.check_invariants();
            }
            s.refresh_potentials();
            assert!(s.find_entering().is_none(), "not optimal after 1000 pivots (seed {seed})");
        }
    }
}
