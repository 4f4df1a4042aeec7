//! An independent exact assignment solver for the tests: the Hungarian method in its
//! shortest-augmenting-path form (Kuhn–Munkres with Jonker–Volgenant style row-by-row
//! augmentation, O(n³)), generic over the number type. With `i128` every operation is an exact
//! integer operation: no rounding at all. Written for the tests; it shares no code with the
//! network simplex of `gmdiff-metrics`.
#![allow(dead_code)]

use std::ops::{Add, Sub};

/// The numbers the solver works on.
pub trait Num: Copy + PartialOrd + Add<Output = Self> + Sub<Output = Self> {
    /// Additive identity.
    const ZERO: Self;
    /// A value larger than any reduced cost met.
    const BIG: Self;
}

impl Num for i128 {
    const ZERO: Self = 0;
    const BIG: Self = i128::MAX / 4;
}

impl Num for f64 {
    const ZERO: Self = 0.0;
    const BIG: Self = f64::INFINITY;
}

/// Minimum-cost perfect matching of an `n × n` cost matrix: returns the assignment
/// `col_of_row` and its total cost `Σ_i cost(i, col_of_row[i])` (summed in `T`).
pub fn assignment<T: Num>(n: usize, cost: impl Fn(usize, usize) -> T) -> (T, Vec<usize>) {
    // 1-based arrays; column 0 is a virtual start. p[j] = row matched to column j (0 = none).
    let mut u = vec![T::ZERO; n + 1];
    let mut v = vec![T::ZERO; n + 1];
    let mut p = vec![0usize; n + 1];
    let mut way = vec![0usize; n + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![T::BIG; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = T::BIG;
            let mut j1 = 0usize;
            for j in 1..=n {
                if used[j] {
                    continue;
                }
                let cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
                if cur < minv[j] {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if minv[j] < delta {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[p[j]] = u[p[j]] + delta;
                    v[j] = v[j] - delta;
                } else {
                    minv[j] = minv[j] - delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut col_of_row = vec![0usize; n];
    for j in 1..=n {
        col_of_row[p[j] - 1] = j - 1;
    }
    let total = (0..n).fold(T::ZERO, |s, i| s + cost(i, col_of_row[i]));
    (total, col_of_row)
}
