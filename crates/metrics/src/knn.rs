//! Exact k-nearest-neighbour search with a k-d tree, and the Kozachenko–Leonenko entropy
//! estimator.

use crate::error::{MetricsError, Result, check_cloud};
use faer::MatRef;
use rayon::prelude::*;
use statrs::function::gamma::{digamma, ln_gamma};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

const LEAF: usize = 16;

enum Node {
    Leaf { start: usize, end: usize },
    Split { dim: usize, value: f64, left: usize, right: usize },
}

/// A k-d tree over the rows of a matrix (median splits on the widest axis).
pub(crate) struct KdTree<'a> {
    pts: MatRef<'a, f64>,
    idx: Vec<usize>,
    nodes: Vec<Node>,
}

#[derive(PartialEq)]
struct Cand(f64, usize);
impl Eq for Cand {}
impl PartialOrd for Cand {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Cand {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

impl<'a> KdTree<'a> {
    pub fn new(pts: MatRef<'a, f64>) -> Self {
        let mut t = KdTree { pts, idx: (0..pts.nrows()).collect(), nodes: Vec::new() };
        if pts.nrows() > 0 {
            t.build(0, pts.nrows());
        }
        t
    }

    fn build(&mut self, start: usize, end: usize) -> usize {
        let id = self.nodes.len();
        if end - start <= LEAF {
            self.nodes.push(Node::Leaf { start, end });
            return id;
        }
        let d = self.pts.ncols();
        let mut dim = 0;
        let mut widest = -1.0;
        for k in 0..d {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &i in &self.idx[start..end] {
                lo = lo.min(self.pts[(i, k)]);
                hi = hi.max(self.pts[(i, k)]);
            }
            if hi - lo > widest {
                widest = hi - lo;
                dim = k;
            }
        }
        if widest <= 0.0 {
            // All points coincide: no split can separate them.
            self.nodes.push(Node::Leaf { start, end });
            return id;
        }
        let mid = (start + end) / 2;
        let pts = self.pts;
        self.idx[start..end].select_nth_unstable_by(mid - start, |&a, &b| pts[(a, dim)].total_cmp(&pts[(b, dim)]));
        let value = pts[(self.idx[mid], dim)];
        self.nodes.push(Node::Leaf { start, end }); // placeholder
        let left = self.build(start, mid);
        let right = self.build(mid, end);
        self.nodes[id] = Node::Split { dim, value, left, right };
        id
    }

    /// The `k` smallest squared distances from row `q` of the tree's matrix to the other rows,
    /// ascending.
    pub fn knn_sq_excluding(&self, q: usize, k: usize) -> Vec<f64> {
        let qp: Vec<f64> = (0..self.pts.ncols()).map(|c| self.pts[(q, c)]).collect();
        let mut heap = BinaryHeap::with_capacity(k + 1);
        if !self.nodes.is_empty() {
            self.search(0, &qp, q, k, &mut heap);
        }
        let mut out: Vec<f64> = heap.into_iter().map(|c| c.0).collect();
        out.sort_by(f64::total_cmp);
        out
    }

    fn search(&self, node: usize, q: &[f64], skip: usize, k: usize, heap: &mut BinaryHeap<Cand>) {
        match self.nodes[node] {
            Node::Leaf { start, end } => {
                for &i in &self.idx[start..end] {
                    if i == skip {
                        continue;
                    }
                    let d2: f64 = q.iter().enumerate().map(|(c, &v)| (v - self.pts[(i, c)]) * (v - self.pts[(i, c)])).sum();
                    if heap.len() < k {
                        heap.push(Cand(d2, i));
                    } else if d2 < heap.peek().map_or(f64::INFINITY, |c| c.0) {
                        heap.pop();
                        heap.push(Cand(d2, i));
                    }
                }
            }
            Node::Split { dim, value, left, right } => {
                let diff = q[dim] - value;
                let (near, far) = if diff < 0.0 { (left, right) } else { (right, left) };
                self.search(near, q, skip, k, heap);
                if heap.len() < k || diff * diff <= heap.peek().map_or(f64::INFINITY, |c| c.0) {
                    self.search(far, q, skip, k, heap);
                }
            }
        }
    }
}

/// Kozachenko–Leonenko k-nearest-neighbour estimate of the differential entropy (nats) of the
/// law of a sample `x` (`N × d`):
///
/// `ĥ = ψ(N) − ψ(k) + ln V_d + (d/N) Σ_i ln ε_i`,
///
/// with `ε_i` the Euclidean distance from `x_i` to its `k`-th nearest other sample point,
/// `V_d = π^{d/2} / Γ(d/2 + 1)` the volume of the unit ball and `ψ` the digamma function.
/// Neighbours are found exactly with a k-d tree (queries in parallel). Consistent for fixed `k`
/// as `N → ∞`; the bias shrinks like `N^{−1/d}`-ish for smooth densities. Needs `N > k ≥ 1` and
/// no point repeated `k + 1` times (a zero distance has no logarithm: that is an error, not `−∞`).
///
/// ```
/// use faer::Mat;
/// // A regular grid of U(0, 1)², whose entropy is 0.
/// let x = Mat::from_fn(900, 2, |i, k| if k == 0 { (i % 30) as f64 / 30.0 } else { (i / 30) as f64 / 30.0 });
/// let h = gmdiff_metrics::entropy_knn(x.as_ref(), 4).unwrap();
/// assert!(h.abs() < 0.15);
/// ```
pub fn entropy_knn(x: MatRef<'_, f64>, k: usize) -> Result<f64> {
    check_cloud("x", x, 2)?;
    let (n, d) = (x.nrows(), x.ncols());
    if k == 0 || k >= n {
        return Err(MetricsError::InvalidParameter { name: "k", value: k as f64, reason: "need 1 <= k < N" });
    }
    let tree = KdTree::new(x);
    let logs: Vec<f64> = (0..n).into_par_iter().map(|i| 0.5 * tree.knn_sq_excluding(i, k)[k - 1].ln()).collect();
    if let Some(i) = logs.iter().position(|v| !v.is_finite()) {
        return Err(MetricsError::InvalidParameter {
            name: "x",
            value: i as f64,
            reason: "a point has k or more exact duplicates (zero k-NN distance)",
        });
    }
    let df = d as f64;
    let ln_vd = 0.5 * df * std::f64::consts::PI.ln() - ln_gamma(0.5 * df + 1.0);
    let mean_log: f64 = logs.iter().sum::<f64>() / n as f64;
    Ok(digamma(n as f64) - digamma(k as f64) + ln_vd + df * mean_log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn kd_tree_matches_brute_force() {
        let mut s = 12345u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            ((s >> 11) as f64) / (1u64 << 53) as f64
        };
        for d in 1..=4 {
            let n = 300;
            // Some duplicated coordinates to exercise ties.
            let x = Mat::from_fn(n, d, |i, _| if i % 7 == 0 { 0.5 } else { (next() * 20.0).floor() / 20.0 });
            let t = KdTree::new(x.as_ref());
            for q in (0..n).step_by(13) {
                for k in [1, 3, 10] {
                    let mut all: Vec<f64> =
                        (0..n).filter(|&i| i != q).map(|i| (0..d).map(|c| (x[(q, c)] - x[(i, c)]).powi(2)).sum()).collect();
                    all.sort_by(f64::total_cmp);
                    assert_eq!(t.knn_sq_excluding(q, k), all[..k].to_vec(), "d = {d}, q = {q}, k = {k}");
                }
            }
        }
    }
}
