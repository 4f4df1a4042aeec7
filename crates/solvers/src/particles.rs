//! The particle carrier: a batch of `n` points in `d` dimensions, with one random stream per particle.

use crate::algebra::{Algebra, Carrier};
use crate::error::SolverError;
use crate::sampler::{Sampler, run};
use crate::schedule::Schedule;
use faer::{Mat, MatMut, MatRef};
use gmdiff_mixture::{Factor, GaussianMixture};
use gmdiff_process::{Coefficients, Score, particle_rng};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

/// Elements per parallel task in linear combinations.
const LIN_CHUNK: usize = 8192;
/// Particles per parallel task when drawing noise.
const NOISE_CHUNK: usize = 1024;

/// Where the particles start.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// The path's standard start `N(0, s² I_d)`: `s = 1` on VP, sub-VP, flow and chains, `s = σ_max`
    /// on VE and EDM ([`gmdiff_process::GaussianPath::start_std`]).
    Standard,
    /// The exact `p_T` of a mixture target at the first grid point: `Σ_i w_i N(a_T μ_i, a_T² Σ_i + b_T² I)`.
    Exact(&'a GaussianMixture),
    /// Given points (`n × d`).
    Points(MatRef<'a, f64>),
}

/// A batch of particles as an [`Algebra`]: values are row-major `n × d` arrays.
///
/// Particle `i` draws all its noise, in step order, from its own stream `particle_rng(seed, i)`,
/// and every operation is row-wise, so results are bit-identical for any number of threads.
///
/// ```
/// use gmdiff_solvers::{Algebra, Particles};
/// use gmdiff_mixture::{Gaussian, GaussianMixture};
/// let target = GaussianMixture::from_gaussian(Gaussian::standard(2).unwrap());
/// let mut p = Particles::new(&target, 4, 7);
/// let xi = p.noise();
/// assert_eq!(xi.len(), 8);
/// ```
pub struct Particles<'a, S: Score + ?Sized> {
    score: &'a S,
    n: usize,
    d: usize,
    rngs: Vec<ChaCha8Rng>,
    state: Vec<Vec<f64>>,
    evals: usize,
}

impl<'a, S: Score + ?Sized> Particles<'a, S> {
    /// `n` particles for `score`, with streams `particle_rng(seed, i)`; the state is empty until set.
    pub fn new(score: &'a S, n: usize, seed: u64) -> Self {
        Self::streams(score, 0, n, seed)
    }
    /// Particles `first, …, first + n − 1` of a larger batch: streams `particle_rng(seed, first + i)`.
    fn streams(score: &'a S, first: usize, n: usize, seed: u64) -> Self {
        let rngs = (first as u64..(first + n) as u64).map(|i| particle_rng(seed, i)).collect();
        Self { score, n, d: score.dim(), rngs, state: Vec::new(), evals: 0 }
    }
    /// Number of particles.
    pub fn len(&self) -> usize {
        self.n
    }
    /// True when there is no particle.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// The positions (slot 0) as an `n × d` view.
    pub fn positions(&self) -> MatRef<'_, f64> {
        MatRef::from_row_major_slice(&self.state[0], self.n, self.d)
    }
    /// Sets the start position from `start`, at the first grid point of `schedule`.
    pub fn start(&mut self, start: Start<'_>, schedule: &Schedule) -> Result<(), SolverError> {
        let origin = Origin::new(start, schedule, self.n, self.d)?;
        self.start_from(&origin, 0);
        Ok(())
    }
    /// Sets the start position of these particles, rows `first, …` of `origin`'s batch.
    fn start_from(&mut self, origin: &Origin<'_>, first: usize) {
        let (n, d) = (self.n, self.d);
        let x = match origin {
            Origin::Standard(s) => {
                let x = self.noise();
                if *s == 1.0 { x } else { x.into_iter().map(|v| s * v).collect() }
            }
            Origin::Points(p) => {
                let mut x = vec![0.0; n * d];
                for i in 0..n {
                    for j in 0..d {
                        x[i * d + j] = p[(first + i, j)];
                    }
                }
                x
            }
            Origin::Exact { pt, factors, cumulative } => {
                let mut x = vec![0.0; n * d];
                x.par_chunks_mut(NOISE_CHUNK * d).zip(self.rngs.par_chunks_mut(NOISE_CHUNK)).for_each(|(rows, rngs)| {
                    let mut z = Mat::zeros(1, d);
                    let mut y = Mat::zeros(1, d);
                    for (row, rng) in rows.chunks_mut(d).zip(rngs.iter_mut()) {
                        let u: f64 = rng.random();
                        let i = cumulative.iter().position(|&c| u < c).unwrap_or(0);
                        for j in 0..d {
                            z[(0, j)] = rng.sample(StandardNormal);
                        }
                        factors[i].apply_rows(z.as_ref(), y.as_mut());
                        let mu = pt.components()[i].mean();
                        for j in 0..d {
                            row[j] = mu[j] + y[(0, j)];
                        }
                    }
                });
                x
            }
        };
        self.state = vec![x];
    }
}

/// A [`Start`], checked and prepared once for a whole batch (the exact `p_T`'s factors and
/// cumulative weights), from which any block of particles draws its start.
enum Origin<'a> {
    /// `N(0, s² I)`.
    Standard(f64),
    Points(MatRef<'a, f64>),
    Exact {
        pt: GaussianMixture,
        factors: Vec<Factor>,
        cumulative: Vec<f64>,
    },
}

impl<'a> Origin<'a> {
    fn new(start: Start<'a>, schedule: &Schedule, n: usize, d: usize) -> Result<Self, SolverError> {
        let at = &schedule.point(0)?;
        Ok(match start {
            Start::Standard => Origin::Standard(schedule.start_std()),
            Start::Points(p) => {
                if p.nrows() != n || p.ncols() != d {
                    return Err(SolverError::Dimension {
                        what: "start points (rows × columns = n × d)",
                        expected: n * d,
                        found: p.nrows() * p.ncols(),
                    });
                }
                Origin::Points(p)
            }
            Start::Exact(m) => {
                if m.dim() != d {
                    return Err(SolverError::Dimension { what: "start mixture", expected: d, found: m.dim() });
                }
                let pt = m.diffused(at.a, at.b)?;
                let factors = pt.components().iter().map(|c| c.covariance().sqrt_factor()).collect();
                let mut cumulative: Vec<f64> = pt
                    .weights()
                    .iter()
                    .scan(0.0, |s, w| {
                        *s += w;
                        Some(*s)
                    })
                    .collect();
                if let Some(last) = cumulative.last_mut() {
                    *last = f64::INFINITY;
                }
                Origin::Exact { pt, factors, cumulative }
            }
        })
    }
}

/// `Σ_j c_j v_j` for equally long flat particle batches, in parallel over fixed chunks (so the
/// result does not depend on the thread count); the particle carrier's `lin`.
///
/// ```
/// let (a, b) = (vec![1.0, 2.0], vec![10.0, 20.0]);
/// assert_eq!(gmdiff_solvers::linear_combination(&[(2.0, &a), (0.5, &b)]), vec![7.0, 14.0]);
/// ```
pub fn linear_combination(terms: &[(f64, &Vec<f64>)]) -> Vec<f64> {
    let len = terms.first().map_or(0, |t| t.1.len());
    let mut out = vec![0.0; len];
    out.par_chunks_mut(LIN_CHUNK).enumerate().for_each(|(c, o)| {
        let off = c * LIN_CHUNK;
        let (c0, v0) = terms[0];
        for (o, v) in o.iter_mut().zip(&v0[off..]) {
            *o = c0 * v;
        }
        for &(ci, vi) in &terms[1..] {
            for (o, v) in o.iter_mut().zip(&vi[off..]) {
                *o += ci * v;
            }
        }
    });
    out
}

impl<S: Score + ?Sized> Algebra for Particles<'_, S> {
    type Value = Vec<f64>;
    fn lin(&mut self, terms: &[(f64, &Vec<f64>)]) -> Vec<f64> {
        linear_combination(terms)
    }
    fn score(&mut self, at: &Coefficients, x: &Vec<f64>) -> Result<Vec<f64>, SolverError> {
        let mut out = vec![0.0; x.len()];
        self.score
            .score_into(at, MatRef::from_row_major_slice(x, self.n, self.d), MatMut::from_row_major_slice_mut(&mut out, self.n, self.d))
            .map_err(|e| SolverError::Score { t: at.t, message: e.to_string() })?;
        self.evals += 1;
        Ok(out)
    }
    fn data_mean(&mut self, at: &Coefficients) -> Result<Vec<f64>, SolverError> {
        let mean = self.score.data_mean().ok_or(SolverError::NoDenoiser { t: at.t })?;
        self.evals += 1;
        Ok(mean.iter().copied().cycle().take(self.n * self.d).collect())
    }
    fn noise(&mut self) -> Vec<f64> {
        let d = self.d;
        let mut out = vec![0.0; self.n * d];
        out.par_chunks_mut(NOISE_CHUNK * d.max(1)).zip(self.rngs.par_chunks_mut(NOISE_CHUNK)).for_each(|(rows, rngs)| {
            for (row, rng) in rows.chunks_mut(d.max(1)).zip(rngs.iter_mut()) {
                for v in row.iter_mut() {
                    *v = rng.sample(StandardNormal);
                }
            }
        });
        out
    }
    fn score_evals(&self) -> usize {
        self.evals
    }
}

impl<S: Score + ?Sized> Carrier for Particles<'_, S> {
    fn open(&mut self) -> Vec<Vec<f64>> {
        std::mem::take(&mut self.state)
    }
    fn close(&mut self, values: Vec<Vec<f64>>) -> Result<(), SolverError> {
        self.state = values;
        Ok(())
    }
}

/// The output of [`sample`].
#[derive(Debug, Clone)]
pub struct SampleOutput {
    /// The samples, `n × d`.
    pub samples: Mat<f64>,
    /// Score evaluations per particle.
    pub score_evals: usize,
}

/// Refuses `n` particles of dimension `d` when `slots` state arrays of `n × d` values cannot be
/// allocated (an absurd `n`), with an error rather than the allocator aborting the process.
///
/// ```
/// assert!(gmdiff_solvers::check_particle_memory(1000, 2, 4).is_ok());
/// assert!(gmdiff_solvers::check_particle_memory(usize::MAX / 2, 2, 4).is_err());
/// ```
pub fn check_particle_memory(n: usize, d: usize, slots: usize) -> Result<(), SolverError> {
    let values = n.checked_mul(d).and_then(|c| c.checked_mul(slots));
    if values.is_some_and(|c| Vec::<f64>::new().try_reserve_exact(c).is_ok()) {
        Ok(())
    } else {
        Err(SolverError::InvalidParameter {
            name: "n",
            value: n as f64,
            reason: "n × d particle states need more memory than can be allocated",
        })
    }
}

/// Runs `sampler` (a built-in or your own, see [`Sampler`]) on `n` particles from `start`, with the
/// (possibly approximate) `score`.
///
/// Errors on invalid parameters, on a failing score, and when a particle ends non-finite
/// ([`SolverError::NonFinite`]): never a silent NaN.
///
/// ```
/// use gmdiff_mixture::{Gaussian, GaussianMixture};
/// use gmdiff_solvers::{Ddpm, Schedule, Start, sample};
/// let target = GaussianMixture::from_gaussian(Gaussian::standard(2).unwrap());
/// let out = sample(&Ddpm::default(), &Schedule::uniform_vp(100, 1e-3).unwrap(), &target, Start::Standard, 500, 1).unwrap();
/// assert_eq!((out.samples.nrows(), out.score_evals), (500, 100));
/// ```
pub fn sample<'a, S: Score + ?Sized, M: Sampler<Particles<'a, S>> + ?Sized>(
    sampler: &M,
    schedule: &Schedule,
    score: &'a S,
    start: Start<'_>,
    n: usize,
    seed: u64,
) -> Result<SampleOutput, SolverError> {
    sample_observed(sampler, schedule, score, start, n, seed, |_| {})
}

/// [`sample`], reporting progress: `steps_done(k)` is called with `k = 0` after the start and
/// then each time the number of steps the particles have completed on average, `k = 1..=S`, grows
/// (for a progress bar). The samples are bit-identical to [`sample`]'s.
///
/// **How the batch runs.** The particles are split into blocks of [`BLOCK_PARTICLES`] rows. Each
/// block runs the whole sampler on its own, start to last step, with its state in cache, and the
/// blocks run in parallel. Every operation is row-wise and particle `i` draws from its own
/// stream `particle_rng(seed, i)`, so the result is the same bits as one whole-batch run, for
/// any thread count. A score that fails stops its block; the error reported is the one at the
/// earliest step (then the lowest block), whatever the thread count.
pub fn sample_observed<'a, S: Score + ?Sized, M: Sampler<Particles<'a, S>> + ?Sized>(
    sampler: &M,
    schedule: &Schedule,
    score: &'a S,
    start: Start<'_>,
    n: usize,
    seed: u64,
    mut steps_done: impl FnMut(usize) + Send,
) -> Result<SampleOutput, SolverError> {
    sampler.validate(schedule)?;
    let d = score.dim();
    check_particle_memory(n, d, 4)?;
    let origin = Origin::new(start, schedule, n, d)?;
    let rows = BLOCK_PARTICLES;
    // One empty block when n = 0, so that the score-evaluation count is still the sampler's.
    let blocks: Vec<(usize, usize)> = (0..n.div_ceil(rows).max(1)).map(|b| (b * rows, rows.min(n - (b * rows).min(n)))).collect();
    let total = blocks.len();
    steps_done(0);
    // (block-steps done, the k last reported, the callback)
    let progress = std::sync::Mutex::new((0usize, 0usize, steps_done));
    // Each block: its final positions and score-evaluation count, or the step it failed at and why.
    type BlockResult = Result<(Vec<f64>, usize), (usize, SolverError)>;
    let mut results: Vec<BlockResult> = blocks
        .par_iter()
        .map(|&(first, len)| {
            let mut particles = Particles::streams(score, first, len, seed);
            particles.start_from(&origin, first);
            let mut done = 0;
            run(sampler, schedule, &mut particles, |k, _| {
                done = k;
                if k > 0 {
                    let mut p = progress.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    p.0 += 1;
                    let avg = p.0 / total;
                    if avg > p.1 {
                        p.1 = avg;
                        (p.2)(avg);
                    }
                }
                Ok(())
            })
            .map_err(|e| (done, e))?;
            Ok((std::mem::take(&mut particles.state).swap_remove(0), particles.evals))
        })
        .collect();
    // The earliest failing step, then the lowest block.
    let earliest = results.iter().enumerate().filter_map(|(b, r)| r.as_ref().err().map(|(step, _)| (*step, b))).min();
    if let Some((_, b)) = earliest
        && let Err((_, e)) = results.swap_remove(b)
    {
        return Err(e);
    }
    let mut samples = Mat::zeros(n, d);
    let mut evals = 0;
    for (&(first, _), (block, e)) in blocks.iter().zip(results.into_iter().flatten()) {
        if !block.iter().all(|v| v.is_finite()) {
            return Err(SolverError::NonFinite { what: "the samples", step: schedule.steps() });
        }
        for (i, row) in block.chunks_exact(d.max(1)).enumerate() {
            for (j, &v) in row.iter().enumerate() {
                samples[(first + i, j)] = v;
            }
        }
        evals = e;
    }
    Ok(SampleOutput { samples, score_evals: evals })
}

/// Particles per block of [`sample`]: 2048, a multiple of 256.
///
/// Each block runs the whole sampler with its state and its random streams in cache (at `d = 2`,
/// 32 KiB per state array). A multiple of 256 so that the mixture's score, which evaluates in
/// blocks of 128 or 256 rows from the first row it is given, sees the same row blocks as in one
/// whole-batch call (a GEMM's rounding can depend on the number of rows it is given). Measured
/// best of 512, 1024, 2048 and 4096 rows at `d = 2`, and faster than one whole batch at `d = 32`.
pub const BLOCK_PARTICLES: usize = 2048;
