//! The blocked, streamed engine behind the kernel two-sample statistics.
//!
//! Pool the samples, `z = (x_1, …, x_n, y_1, …, y_m)`, `N = n + m`, and let `K` be the `N × N`
//! matrix of a symmetric kernel (`K_ab = exp(−c‖z_a − z_b‖²)` or `‖z_a − z_b‖`). A split of the
//! pool into groups `A` (size `n`) and `B` (size `m`) is the signed weight vector
//! `s_a = 1/n` (`a ∈ A`), `s_a = −1/m` (`a ∈ B`). For the columns `s_0, …, s_{C−1}` (column 0
//! is the observed split) the engine returns, in one pass over `K` and without storing it,
//!
//! * `V_p = s_pᵀ K s_p` (the biased MMD² of split `p`, or minus the squared energy distance),
//! * `σ_p = s_pᵀ K 1` and `τ = 1ᵀ K 1`,
//!
//! which determine the three within/between-group sums of every split (see `kernel.rs`).
//!
//! **Blocks.** Rows are cut into blocks of [`BLOCK`]. Only the blocks `K_IJ` with `I ≤ J` are
//! computed (`K` is symmetric). A work unit is one row block `I`: it accumulates
//! `W = Σ_{J>I} K_IJ [S_J | 1]` with faer's GEMM, then the diagonal block, and reduces them to
//! its share of `V`, `σ` and `τ`:
//!
//! * `V_p += s_Iᵀ K_II s_I + 2 s_Iᵀ W_p`,
//! * `σ_p += s_Iᵀ K_II 1 + s_Iᵀ W_1 + 1ᵀ W_p` (both triangles of `K`),
//! * `τ += 1ᵀ K_II 1 + 2·1ᵀ W_1`.
//!
//! Memory: the centred pool (`N d`), its squared norms (`N`), the splits as bit sets
//! (`C N / 8` bytes) and, per running unit, four `BLOCK × (C + 1)`-sized buffers.
//!
//! **Kernel blocks.** `‖z_a − z_b‖² = ‖z_a‖² + ‖z_b‖² − 2 z_a·z_b` with the products by a GEMM
//! on the pool centred at its mean (translation does not change distances, and centring keeps
//! `‖z‖²` of the order of the distances). The result is clamped at 0. Its rounding error is at
//! most about `(d + 2) ε (‖z_a‖² + ‖z_b‖²)`, which is a large *relative* error only when the
//! distance is small against the norms: every entry with `D < (‖z_a‖² + ‖z_b‖²) / 16` is
//! recomputed from the coordinate differences, so each entry keeps a relative error below
//! `16 (d + 2) ε` (and the diagonal is exactly 0). The exponential is [`gmdiff_mixture::exp`]
//! (fdlibm's, below 1 ulp), branch-free so that the compiler vectorises it here.
//!
//! **Determinism.** Every GEMM runs sequentially inside its unit, each unit sums in a fixed
//! order, and the per-unit results are added in unit order after the parallel loop: the output
//! does not depend on the number of threads.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{MetricsError, Result};

/// Rows (and columns) per kernel block.
pub(crate) const BLOCK: usize = 256;

/// A GEMM-computed squared distance below this fraction of `‖z_a‖² + ‖z_b‖²` is recomputed
/// from the coordinate differences.
const RECOMPUTE: f64 = 1.0 / 16.0;

/// A progress callback: `(blocks done, blocks in total)`, called from worker threads.
pub(crate) type Progress<'a> = Option<&'a (dyn Fn(u64, u64) + Sync)>;

/// The kernel applied to squared distances `D`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kernel {
    /// `exp(−c D)`, `c = 1/(2h²)` finite and `> 0`.
    Gaussian { c: f64 },
    /// `sqrt(D)`.
    Distance,
}

/// The pooled sample, centred at its mean, with squared norms.
pub(crate) struct Pooled {
    /// Column-major `N × d`.
    z: Vec<f64>,
    norms: Vec<f64>,
    pub n: usize,
    pub m: usize,
    d: usize,
}

impl Pooled {
    /// Pools and centres `x` (`n × d`) and `y` (`m × d`), already validated. Errors with
    /// [`MetricsError::Overflow`] when some squared distance could exceed `f64`.
    pub fn new(x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<Self> {
        let (n, m, d) = (x.nrows(), y.nrows(), x.ncols());
        let nn = n + m;
        let inv = 1.0 / nn as f64;
        let mut z = vec![0.0; nn * d];
        for k in 0..d {
            let col = &mut z[k * nn..(k + 1) * nn];
            for i in 0..n {
                col[i] = x[(i, k)];
            }
            for j in 0..m {
                col[n + j] = y[(j, k)];
            }
            // Σ z/N rather than (Σ z)/N: no overflow for entries near f64::MAX.
            let mean: f64 = col.iter().map(|v| v * inv).sum();
            col.iter_mut().for_each(|v| *v -= mean);
        }
        let mut norms = vec![0.0; nn];
        for k in 0..d {
            for (s, v) in norms.iter_mut().zip(&z[k * nn..(k + 1) * nn]) {
                *s += v * v;
            }
        }
        let max = norms.iter().fold(0.0f64, |a, &b| a.max(b));
        // ‖z_a − z_b‖² ≤ 4 max ‖z‖²; NaN cannot occur (finite inputs), +∞ can.
        if !(4.0 * max).is_finite() {
            return Err(MetricsError::Overflow { what: "squared pairwise distances", value: f64::INFINITY });
        }
        Ok(Pooled { z, norms, n, m, d })
    }

    fn len(&self) -> usize {
        self.n + self.m
    }

    /// Rows `r0..r0 + rows` as a `rows × d` view.
    fn rows(&self, r0: usize, rows: usize) -> MatRef<'_, f64> {
        MatRef::from_column_major_slice_with_stride(&self.z[r0..], rows, self.d, self.len())
    }

    /// `‖z_a − z_b‖²` from the differences.
    fn direct(&self, a: usize, b: usize) -> f64 {
        let nn = self.len();
        (0..self.d).map(|k| (self.z[k * nn + a] - self.z[k * nn + b]) * (self.z[k * nn + a] - self.z[k * nn + b])).sum()
    }
}

/// The observed split and `P` random ones, as bit sets (bit `a` set ⇔ pooled point `a` is in
/// group `A`, of size `n`).
///
/// Column 0 is the observed split (`A = {0, …, n−1}`). Column `p ≥ 1` is permutation `p − 1`:
/// a Fisher–Yates shuffle of `0..N` (`for i in (1..N).rev() { swap(i, uniform(0..=i)) }`, 64-bit
/// draws) driven by `ChaCha8Rng::seed_from_u64(seed)` with `set_stream(p − 1)`; its first `n`
/// entries form `A`.
pub(crate) struct Splits {
    words: usize,
    bits: Vec<u64>,
    columns: usize,
}

impl Splits {
    pub fn new(n: usize, m: usize, permutations: usize, seed: u64) -> Self {
        let nn = n + m;
        let words = nn.div_ceil(64);
        let set = |bits: &mut [u64], a: usize| bits[a >> 6] |= 1u64 << (a & 63);
        let mut bits = vec![0u64; (permutations + 1) * words];
        let (observed, permuted) = bits.split_at_mut(words);
        (0..n).for_each(|a| set(observed, a));
        permuted.par_chunks_mut(words.max(1)).enumerate().for_each(|(p, column)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(p as u64);
            let mut perm: Vec<usize> = (0..nn).collect();
            for i in (1..nn).rev() {
                let j = rng.random_range(0..=i as u64) as usize;
                perm.swap(i, j);
            }
            perm[..n].iter().for_each(|&a| set(column, a));
        });
        Splits { words, bits, columns: permutations + 1 }
    }

    /// The number of columns, `P + 1`.
    pub fn columns(&self) -> usize {
        self.columns
    }

    fn column(&self, p: usize) -> &[u64] {
        &self.bits[p * self.words..(p + 1) * self.words]
    }

    /// Whether pooled point `a` is in group `A` under split `p`.
    #[cfg(test)]
    pub fn in_a(&self, p: usize, a: usize) -> bool {
        (self.column(p)[a >> 6] >> (a & 63)) & 1 == 1
    }

    /// `[S | 1]` for rows `r0..r0 + rows` (`r0` a multiple of 64): `rows × (C + 1)`
    /// column-major, `S_ap = 1/n` or `−1/m`.
    fn fill_signs(&self, r0: usize, rows: usize, n: usize, m: usize, simd: bool, out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if simd {
            // SAFETY: `simd` is true only when the CPU reported AVX2 and FMA at run time.
            unsafe { fill_signs_avx2(self, r0, rows, n, m, out) };
            return;
        }
        let _ = simd;
        fill_signs(self, r0, rows, n, m, out);
    }
}

#[inline(always)]
fn fill_signs(splits: &Splits, r0: usize, rows: usize, n: usize, m: usize, out: &mut [f64]) {
    debug_assert_eq!(r0 % 64, 0);
    let (u, w) = (1.0 / n as f64, -1.0 / m as f64);
    for p in 0..splits.columns {
        let bits = &splits.column(p)[r0 / 64..];
        for (chunk, &word) in out[p * rows..(p + 1) * rows].chunks_mut(64).zip(bits) {
            match <&mut [f64; 64]>::try_from(&mut *chunk) {
                Ok(full) => {
                    for (t, v) in full.iter_mut().enumerate() {
                        *v = if (word >> t) & 1 == 1 { u } else { w };
                    }
                }
                Err(_) => {
                    for (t, v) in chunk.iter_mut().enumerate() {
                        *v = if (word >> t) & 1 == 1 { u } else { w };
                    }
                }
            }
        }
    }
    out[splits.columns * rows..(splits.columns + 1) * rows].fill(1.0);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fill_signs_avx2(splits: &Splits, r0: usize, rows: usize, n: usize, m: usize, out: &mut [f64]) {
    fill_signs(splits, r0, rows, n, m, out)
}

/// What [`stream`] returns: `V_p = s_pᵀ K s_p`, `σ_p = s_pᵀ K 1` for every split, and `τ = 1ᵀ K 1`.
#[derive(Debug, Clone)]
pub(crate) struct Sums {
    pub v: Vec<f64>,
    pub sigma: Vec<f64>,
    pub tau: f64,
}

/// Pass A on one column of a block: `g = −2 z_a·z_b` becomes `max(‖z_a‖² + ‖z_b‖² + g, 0)`;
/// returns whether an entry needs the exact recomputation.
#[inline(always)]
fn distances(col: &mut [f64], norms_i: &[f64], norm_j: f64) -> bool {
    let mut count = 0usize;
    for (g, &a) in col.iter_mut().zip(norms_i) {
        let s = a + norm_j;
        let d = s + *g;
        let d = if d > 0.0 { d } else { 0.0 };
        count += usize::from(d < RECOMPUTE * s);
        *g = d;
    }
    count > 0
}

#[inline(always)]
fn apply_kernel(kernel: Kernel, block: &mut [f64]) {
    match kernel {
        Kernel::Gaussian { c } => {
            block.iter_mut().for_each(|v| *v *= -c);
            // Its own run-time dispatch (AVX-512 where the CPU has it).
            gmdiff_mixture::exp_in_place(block);
        }
        Kernel::Distance => block.iter_mut().for_each(|v| *v = v.sqrt()),
    }
}

/// Turns `block` (`bi × bj`, holding `−2 Z_I Z_Jᵀ`) into the kernel block.
#[inline(always)]
fn finish_block(pool: &Pooled, kernel: Kernel, r0: usize, bi: usize, c0: usize, block: &mut [f64]) {
    let norms_i = &pool.norms[r0..r0 + bi];
    for (j, col) in block.chunks_exact_mut(bi).enumerate() {
        let b = c0 + j;
        if distances(col, norms_i, pool.norms[b]) {
            for (i, d) in col.iter_mut().enumerate() {
                let a = r0 + i;
                if *d < RECOMPUTE * (norms_i[i] + pool.norms[b]) {
                    *d = if a == b { 0.0 } else { pool.direct(a, b) };
                }
            }
        }
    }
    if r0 == c0 {
        (0..bi).for_each(|i| block[i * bi + i] = 0.0);
    }
    apply_kernel(kernel, block);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn finish_block_avx2(pool: &Pooled, kernel: Kernel, r0: usize, bi: usize, c0: usize, block: &mut [f64]) {
    finish_block(pool, kernel, r0, bi, c0, block)
}

/// Whether the running CPU has AVX2 and FMA (then the AVX2 + FMA build of the kernel pass runs).
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The kernel block `K_IJ` for the pooled rows `rows` and columns `cols`, column-major in
/// `block[..rows.len() * cols.len()]`.
fn kernel_block(pool: &Pooled, kernel: Kernel, simd: bool, rows: Range<usize>, cols: Range<usize>, block: &mut [f64]) {
    let (r0, bi, c0, bj) = (rows.start, rows.len(), cols.start, cols.len());
    let block = &mut block[..bi * bj];
    matmul(
        MatMut::from_column_major_slice_mut(block, bi, bj),
        Accum::Replace,
        pool.rows(r0, bi),
        pool.rows(c0, bj).transpose(),
        -2.0,
        Par::Seq,
    );
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: `simd` is true only when the CPU reported AVX2 and FMA at run time.
        unsafe { finish_block_avx2(pool, kernel, r0, bi, c0, block) };
        return;
    }
    let _ = simd;
    finish_block(pool, kernel, r0, bi, c0, block);
}

/// `Σ_t a_t b_t` in eight interleaved partial sums combined in a fixed order.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        acc[l] += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

fn sum(a: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let ca = a.chunks_exact(8);
    let ra = ca.remainder();
    for x in ca {
        for l in 0..8 {
            acc[l] += x[l];
        }
    }
    for (l, x) in ra.iter().enumerate() {
        acc[l] += x;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// One unit: row block `ib` against the blocks `J ≥ ib`.
fn unit(pool: &Pooled, kernel: Kernel, splits: &Splits, simd: bool, ib: usize, tick: &dyn Fn(u64)) -> Sums {
    let nn = pool.len();
    let nb = nn.div_ceil(BLOCK);
    let cs = splits.columns();
    let c1 = cs + 1;
    let r0 = ib * BLOCK;
    let bi = BLOCK.min(nn - r0);
    let mut s_i = vec![0.0; bi * c1];
    splits.fill_signs(r0, bi, pool.n, pool.m, simd, &mut s_i);
    let mut w = vec![0.0; bi * c1];
    let mut block = vec![0.0; bi * BLOCK];
    let mut s_j = vec![0.0; BLOCK * c1];
    for jb in ib + 1..nb {
        let c0 = jb * BLOCK;
        let bj = BLOCK.min(nn - c0);
        kernel_block(pool, kernel, simd, r0..r0 + bi, c0..c0 + bj, &mut block);
        splits.fill_signs(c0, bj, pool.n, pool.m, simd, &mut s_j[..bj * c1]);
        matmul(
            MatMut::from_column_major_slice_mut(&mut w, bi, c1),
            Accum::Add,
            MatRef::from_column_major_slice(&block[..bi * bj], bi, bj),
            MatRef::from_column_major_slice(&s_j[..bj * c1], bj, c1),
            1.0,
            Par::Seq,
        );
        tick(1);
    }
    fn col(v: &[f64], p: usize, bi: usize) -> &[f64] {
        &v[p * bi..(p + 1) * bi]
    }
    let ones_w = sum(col(&w, cs, bi));
    let mut v: Vec<f64> = (0..cs).map(|p| 2.0 * dot(col(&s_i, p, bi), col(&w, p, bi))).collect();
    let mut sigma: Vec<f64> = (0..cs).map(|p| dot(col(&s_i, p, bi), col(&w, cs, bi)) + sum(col(&w, p, bi))).collect();
    kernel_block(pool, kernel, simd, r0..r0 + bi, r0..r0 + bi, &mut block);
    matmul(
        MatMut::from_column_major_slice_mut(&mut w, bi, c1),
        Accum::Replace,
        MatRef::from_column_major_slice(&block[..bi * bi], bi, bi),
        MatRef::from_column_major_slice(&s_i, bi, c1),
        1.0,
        Par::Seq,
    );
    tick(1);
    for p in 0..cs {
        v[p] += dot(col(&s_i, p, bi), col(&w, p, bi));
        sigma[p] += dot(col(&s_i, p, bi), col(&w, cs, bi));
    }
    Sums { v, sigma, tau: sum(col(&w, cs, bi)) + 2.0 * ones_w }
}

/// `V`, `σ` and `τ` (see the module docs) for every split, streaming `K` in blocks.
pub(crate) fn stream(pool: &Pooled, kernel: Kernel, splits: &Splits, progress: Progress<'_>) -> Sums {
    let nb = pool.len().div_ceil(BLOCK);
    let total = (nb * (nb + 1) / 2) as u64;
    let done = AtomicU64::new(0);
    let tick = |k: u64| {
        if let Some(f) = progress {
            f(done.fetch_add(k, Ordering::Relaxed) + k, total);
        }
    };
    let simd = has_avx2();
    let units: Vec<Sums> = (0..nb).into_par_iter().with_max_len(1).map(|ib| unit(pool, kernel, splits, simd, ib, &tick)).collect();
    let cs = splits.columns();
    let mut out = Sums { v: vec![0.0; cs], sigma: vec![0.0; cs], tau: 0.0 };
    for u in &units {
        out.v.iter_mut().zip(&u.v).for_each(|(a, b)| *a += b);
        out.sigma.iter_mut().zip(&u.sigma).for_each(|(a, b)| *a += b);
        out.tau += u.tau;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn kernel_blocks_match_the_difference_formula() {
        // Points with a far offset (1e3) and near-duplicates: the norm-expansion route alone
        // would lose ~1e-10 relative on the close pairs; with the centring and the recomputation
        // every squared distance must agree with Σ (z_a − z_b)² to 16 (d + 2) ε relative, and
        // sqrt / exp inherit that.
        let (n, m, d) = (300, 280, 5);
        let mut s = 1u64;
        let mut u = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut x = Mat::from_fn(n, d, |_, k| 1e3 + k as f64 + u());
        let y = Mat::from_fn(m, d, |_, k| 1e3 + k as f64 + u());
        for i in 0..20 {
            for k in 0..d {
                x[(i + 20, k)] = x[(i, k)] + 1e-9 * u();
            }
        }
        let pool = Pooled::new(x.as_ref(), y.as_ref()).unwrap();
        let nn = n + m;
        let direct = |a: usize, b: usize| -> f64 {
            let row = |t: usize, k: usize| if t < n { x[(t, k)] } else { y[(t - n, k)] };
            (0..d).map(|k| (row(a, k) - row(b, k)) * (row(a, k) - row(b, k))).sum()
        };
        let tol = 16.0 * (d as f64 + 2.0) * f64::EPSILON;
        for simd in [false, has_avx2()] {
            for (r0, c0) in [(0, 0), (0, 256), (256, 512), (512, 512)] {
                let (bi, bj) = (BLOCK.min(nn - r0), BLOCK.min(nn - c0));
                let mut block = vec![0.0; bi * bj];
                kernel_block(&pool, Kernel::Distance, simd, r0..r0 + bi, c0..c0 + bj, &mut block);
                for j in 0..bj {
                    for i in 0..bi {
                        let exact = direct(r0 + i, c0 + j).sqrt();
                        let got = block[j * bi + i];
                        assert!((got - exact).abs() <= tol * exact + 1e-300, "({}, {}): {got} vs {exact}", r0 + i, c0 + j);
                    }
                }
                let c = 0.7;
                kernel_block(&pool, Kernel::Gaussian { c }, simd, r0..r0 + bi, c0..c0 + bj, &mut block);
                for j in 0..bj {
                    for i in 0..bi {
                        let dd = direct(r0 + i, c0 + j);
                        let exact = (-c * dd).exp();
                        let got = block[j * bi + i];
                        // Relative error of exp(−cD): c D · tol from D, plus 3 ulps from exp.
                        assert!((got - exact).abs() <= exact * (c * dd * tol + 3.0 * f64::EPSILON), "{got} vs {exact}");
                    }
                }
            }
        }
    }

    #[test]
    fn splits_hold_n_points_in_group_a() {
        let s = Splits::new(7, 12, 30, 3);
        for p in 0..s.columns() {
            assert_eq!((0..19).filter(|&a| s.in_a(p, a)).count(), 7);
        }
        assert!((0..7).all(|a| s.in_a(0, a)) && (7..19).all(|a| !s.in_a(0, a)));
    }
}
