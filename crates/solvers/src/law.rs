//! The exact-law carrier: runs a sampler's own step on Gaussian laws.
//!
//! For a target whose (approximate) score is affine, `s_t(x) = L_t x + c_t` — the exact score of
//! `N(μ, Σ)` is `−Σ_t⁻¹ (x − a_t μ)` with `Σ_t = a_t² Σ + b_t² I` — every value inside a step is an
//! [`Affine`] map of the state at the step's start (slots `Y_1..Y_m`) and of the step's fresh noises:
//! `v = Σ_b A_b Y_b + Σ_n G_n ξ_n + c`. `lin` combines the coefficients, `score` multiplies them by
//! `L_t` and adds `c_t`, `noise` adds a new independent `ξ`. At the end of a step the new state's
//! joint law is collapsed exactly:
//! `E v_i = Σ_b A_ib E Y_b + c_i`, `Cov(v_i, v_j) = Σ_{b,b'} A_ib Cov(Y_b, Y_b') A_jb'ᵀ + Σ_n G_in G_jnᵀ`.
//!
//! Coefficients are generic ([`Coef`]): [`Dense`] `d × d` matrices, or [`Diag`] vectors when
//! everything is diagonal in one orthonormal basis (the spectral fast path: one scalar recurrence
//! per eigenvalue, vectorised). Multiples of the identity are kept as scalars ([`Op::Scalar`]).

use crate::algebra::{Algebra, Carrier};
use crate::error::SolverError;
use crate::lanes::{LaneCarrier, LaneEngine};
use crate::sampler::{Count, Sampler, run};
use crate::schedule::Schedule;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use gmdiff_process::Coefficients;

/// A linear-map coefficient type: dense matrices or diagonals in a fixed basis.
pub trait Coef: Clone + Send + Sync + std::fmt::Debug {
    /// `c I_d`.
    fn identity(dim: usize, c: f64) -> Self;
    /// `(rows, columns)` of the coefficient as a matrix.
    fn shape(&self) -> (usize, usize);
    /// `self ← c · self`.
    fn scale(&mut self, c: f64);
    /// `self ← self + c · other`.
    fn axpy(&mut self, c: f64, other: &Self);
    /// `self ← self + c I`.
    fn add_identity(&mut self, c: f64);
    /// `self · other`.
    fn matmul(&self, other: &Self) -> Self;
    /// `self · otherᵀ`.
    fn matmul_t(&self, other: &Self) -> Self;
    /// `selfᵀ`.
    fn transpose(&self) -> Self;
    /// `self · v`.
    fn apply(&self, v: &[f64]) -> Vec<f64>;
    /// True when some entry is NaN.
    fn has_nan(&self) -> bool;
    /// `A C Bᵀ` for coefficients that may be multiples of the identity (one pass for diagonals).
    fn sandwich(a: &Op<Self>, c: &Op<Self>, b: &Op<Self>) -> Op<Self> {
        a.mul(c).mul_t(b)
    }
    /// True when this type stores diagonals in a fixed basis ([`Diag`]): then [`Coef::diagonal`],
    /// [`Coef::from_diagonal`] and [`Coef::into_diagonal`] give `Some`, and [`output_law`] runs the
    /// lane-wise engine [`crate::LaneEngine`] (each coordinate an independent scalar problem).
    const DIAGONAL: bool = false;
    /// The diagonal entries (`Some` when [`Coef::DIAGONAL`]).
    fn diagonal(&self) -> Option<&[f64]> {
        None
    }
    /// The coefficient `diag(entries)` (`Some` when [`Coef::DIAGONAL`]).
    fn from_diagonal(entries: Vec<f64>) -> Option<Self> {
        let _ = entries;
        None
    }
    /// The diagonal entries, by value (`Some` when [`Coef::DIAGONAL`]).
    fn into_diagonal(self) -> Option<Vec<f64>> {
        None
    }
    /// `c · self + shift · I` as a new coefficient (one pass for diagonals).
    fn affine_copy(&self, c: f64, shift: f64) -> Self {
        let mut m = self.clone();
        m.scale(c);
        if shift != 0.0 {
            m.add_identity(shift);
        }
        m
    }
}

/// A diagonal coefficient `diag(v)` (the spectral fast path).
///
/// ```
/// use gmdiff_solvers::{Coef, Diag};
/// let a = Diag(vec![1.0, 2.0]);
/// assert_eq!(a.matmul(&Diag(vec![3.0, 4.0])), Diag(vec![3.0, 8.0]));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Diag(pub Vec<f64>);

impl Coef for Diag {
    const DIAGONAL: bool = true;
    fn diagonal(&self) -> Option<&[f64]> {
        Some(&self.0)
    }
    fn from_diagonal(entries: Vec<f64>) -> Option<Self> {
        Some(Diag(entries))
    }
    fn into_diagonal(self) -> Option<Vec<f64>> {
        Some(self.0)
    }
    fn identity(dim: usize, c: f64) -> Self {
        Diag(vec![c; dim])
    }
    fn shape(&self) -> (usize, usize) {
        (self.0.len(), self.0.len())
    }
    fn scale(&mut self, c: f64) {
        self.0.iter_mut().for_each(|v| *v *= c);
    }
    fn axpy(&mut self, c: f64, other: &Self) {
        self.0.iter_mut().zip(&other.0).for_each(|(v, o)| *v += c * o);
    }
    fn add_identity(&mut self, c: f64) {
        self.0.iter_mut().for_each(|v| *v += c);
    }
    fn matmul(&self, other: &Self) -> Self {
        Diag(self.0.iter().zip(&other.0).map(|(a, b)| a * b).collect())
    }
    fn matmul_t(&self, other: &Self) -> Self {
        self.matmul(other)
    }
    fn transpose(&self) -> Self {
        self.clone()
    }
    fn apply(&self, v: &[f64]) -> Vec<f64> {
        self.0.iter().zip(v).map(|(a, b)| a * b).collect()
    }
    fn has_nan(&self) -> bool {
        self.0.iter().fold(false, |acc, v| acc | v.is_nan())
    }
    fn affine_copy(&self, c: f64, shift: f64) -> Self {
        Diag(self.0.iter().map(|v| c * v + shift).collect())
    }
    fn sandwich(a: &Op<Self>, c: &Op<Self>, b: &Op<Self>) -> Op<Self> {
        fn part(o: &Op<Diag>) -> (f64, Option<&[f64]>) {
            match o {
                Op::Scalar(s) => (*s, None),
                Op::Full(Diag(v)) => (1.0, Some(v.as_slice())),
            }
        }
        let ((sa, va), (sc, vc), (sb, vb)) = (part(a), part(c), part(b));
        let k = sa * sc * sb;
        let n = match (va, vc, vb) {
            (Some(v), _, _) | (_, Some(v), _) | (_, _, Some(v)) => v.len(),
            _ => return Op::Scalar(k),
        };
        let one = |v: Option<&[f64]>, i: usize| v.map_or(1.0, |v| v[i]);
        Op::Full(Diag(match (va, vc, vb) {
            (Some(x), Some(y), Some(z)) => x.iter().zip(y).zip(z).map(|((x, y), z)| k * x * y * z).collect(),
            _ => (0..n).map(|i| k * one(va, i) * one(vc, i) * one(vb, i)).collect(),
        }))
    }
}

/// A dense `d × d` coefficient; products use `Par::Seq`, so results never depend on the thread count.
///
/// ```
/// use gmdiff_solvers::{Coef, Dense};
/// let a = Dense(faer::mat![[1.0, 2.0], [0.0, 1.0]]);
/// assert_eq!(a.apply(&[1.0, 1.0]), vec![3.0, 1.0]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dense(pub Mat<f64>);

impl Coef for Dense {
    fn identity(dim: usize, c: f64) -> Self {
        Dense(Mat::from_fn(dim, dim, |i, j| if i == j { c } else { 0.0 }))
    }
    fn shape(&self) -> (usize, usize) {
        (self.0.nrows(), self.0.ncols())
    }
    fn scale(&mut self, c: f64) {
        self.0 *= faer::Scale(c);
    }
    fn axpy(&mut self, c: f64, other: &Self) {
        let d = self.0.nrows();
        for j in 0..d {
            for i in 0..d {
                self.0[(i, j)] += c * other.0[(i, j)];
            }
        }
    }
    fn add_identity(&mut self, c: f64) {
        for i in 0..self.0.nrows() {
            self.0[(i, i)] += c;
        }
    }
    fn matmul(&self, other: &Self) -> Self {
        let d = self.0.nrows();
        let mut out = Mat::zeros(d, other.0.ncols());
        matmul(out.as_mut(), Accum::Replace, self.0.as_ref(), other.0.as_ref(), 1.0, Par::Seq);
        Dense(out)
    }
    fn matmul_t(&self, other: &Self) -> Self {
        let d = self.0.nrows();
        let mut out = Mat::zeros(d, other.0.nrows());
        matmul(out.as_mut(), Accum::Replace, self.0.as_ref(), other.0.transpose(), 1.0, Par::Seq);
        Dense(out)
    }
    fn transpose(&self) -> Self {
        Dense(self.0.transpose().to_owned())
    }
    fn apply(&self, v: &[f64]) -> Vec<f64> {
        (0..self.0.nrows()).map(|i| (0..self.0.ncols()).map(|j| self.0[(i, j)] * v[j]).sum()).collect()
    }
    fn has_nan(&self) -> bool {
        (0..self.0.ncols()).any(|j| (0..self.0.nrows()).any(|i| self.0[(i, j)].is_nan()))
    }
}

/// A coefficient that is either a multiple of the identity (kept as a scalar) or a full [`Coef`].
///
/// ```
/// use gmdiff_solvers::{Diag, Op};
/// let mut a: Op<Diag> = Op::Scalar(2.0);
/// a.add_scaled(3.0, &Op::Full(Diag(vec![1.0, -1.0])));
/// assert_eq!(a, Op::Full(Diag(vec![5.0, -1.0])));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Op<C> {
    /// `c I`.
    Scalar(f64),
    /// A full coefficient.
    Full(C),
}

impl<C: Coef> Op<C> {
    /// `c · self`.
    pub fn scaled(&self, c: f64) -> Self {
        match self {
            Op::Scalar(a) => Op::Scalar(c * a),
            Op::Full(m) => Op::Full(m.affine_copy(c, 0.0)),
        }
    }
    /// `self ← self + c · other`.
    pub fn add_scaled(&mut self, c: f64, other: &Self) {
        match (&mut *self, other) {
            (Op::Scalar(a), Op::Scalar(b)) => *a += c * b,
            (Op::Scalar(a), Op::Full(m)) => *self = Op::Full(m.affine_copy(c, *a)),
            (Op::Full(m), Op::Scalar(b)) => m.add_identity(c * b),
            (Op::Full(m), Op::Full(n)) => m.axpy(c, n),
        }
    }
    /// `self · other`.
    pub fn mul(&self, other: &Self) -> Self {
        match (self, other) {
            (Op::Scalar(a), Op::Scalar(b)) => Op::Scalar(a * b),
            (Op::Scalar(a), Op::Full(m)) | (Op::Full(m), Op::Scalar(a)) => Op::Full(m.affine_copy(*a, 0.0)),
            (Op::Full(m), Op::Full(n)) => Op::Full(m.matmul(n)),
        }
    }
    /// `self · otherᵀ`.
    pub fn mul_t(&self, other: &Self) -> Self {
        match (self, other) {
            (Op::Full(m), Op::Full(n)) => Op::Full(m.matmul_t(n)),
            (_, Op::Full(n)) => self.mul(&Op::Full(n.transpose())),
            _ => self.mul(other),
        }
    }
    /// `selfᵀ`.
    pub fn transpose(&self) -> Self {
        match self {
            Op::Scalar(a) => Op::Scalar(*a),
            Op::Full(m) => Op::Full(m.transpose()),
        }
    }
    /// `self · v`.
    pub fn apply(&self, v: &[f64]) -> Vec<f64> {
        match self {
            Op::Scalar(a) => v.iter().map(|x| a * x).collect(),
            Op::Full(m) => m.apply(v),
        }
    }
    /// The full coefficient in dimension `dim`.
    pub fn to_full(&self, dim: usize) -> C {
        match self {
            Op::Scalar(a) => C::identity(dim, *a),
            Op::Full(m) => m.clone(),
        }
    }
    fn has_nan(&self) -> bool {
        match self {
            Op::Scalar(a) => a.is_nan(),
            Op::Full(m) => m.has_nan(),
        }
    }
}

/// An affine value `Σ_b A_b Y_b + Σ_n G_n ξ_n + c` of the exact-law engine (see the module docs).
#[derive(Debug, Clone)]
pub struct Affine<C> {
    basis: Vec<Option<Op<C>>>,
    noise: Vec<(usize, Op<C>)>,
    constant: Option<Vec<f64>>,
}

impl<C: Coef> Affine<C> {
    fn add_scaled(&mut self, c: f64, other: &Self) {
        if self.basis.len() < other.basis.len() {
            self.basis.resize(other.basis.len(), None);
        }
        for (s, o) in self.basis.iter_mut().zip(&other.basis) {
            match (s.as_mut(), o) {
                (_, None) => {}
                (None, Some(o)) => *s = Some(o.scaled(c)),
                (Some(s), Some(o)) => s.add_scaled(c, o),
            }
        }
        for (id, g) in &other.noise {
            match self.noise.iter_mut().find(|(i, _)| i == id) {
                Some((_, s)) => s.add_scaled(c, g),
                None => self.noise.push((*id, g.scaled(c))),
            }
        }
        if let Some(oc) = &other.constant {
            match &mut self.constant {
                Some(sc) => sc.iter_mut().zip(oc).for_each(|(s, o)| *s += c * o),
                None => self.constant = Some(oc.iter().map(|o| c * o).collect()),
            }
        }
    }
    fn scaled(&self, c: f64) -> Self {
        Affine {
            basis: self.basis.iter().map(|b| b.as_ref().map(|b| b.scaled(c))).collect(),
            noise: self.noise.iter().map(|(i, g)| (*i, g.scaled(c))).collect(),
            constant: self.constant.as_ref().map(|v| v.iter().map(|x| c * x).collect()),
        }
    }
}

/// A Gaussian target (or an approximate score of one) whose score is affine: `s_t(x) = L_t x + c_t`.
pub trait LinearScore<C: Coef>: Sync {
    /// The dimension `d`.
    fn dim(&self) -> usize;
    /// `(L_t, c_t)` at the process coefficients `at` (`c_t = None` means 0). Errors with
    /// [`SolverError::SingularScore`] where the score is infinite.
    fn affine(&self, at: &Coefficients) -> Result<(Op<C>, Option<Vec<f64>>), SolverError>;
    /// The exact law `p_t = N(a μ, a² Σ + b² I)` of the data process at `at` (mean `None` is 0).
    fn marginal(&self, at: &Coefficients) -> Marginal<C>;
    /// The data mean in the coefficient basis (`Some(None)` for a centred target), or `None` when
    /// the score does not know it (the default): the `x₀` prediction at `a_t = 0`.
    fn data_mean(&self) -> Option<Option<Vec<f64>>> {
        None
    }
}

/// A Gaussian law `N(mean, cov)` in the coefficient basis (`mean = None` means 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Marginal<C> {
    /// The mean.
    pub mean: Option<Vec<f64>>,
    /// The covariance.
    pub cov: Op<C>,
}

impl<C: Coef> Marginal<C> {
    /// `N(0, I)`.
    pub fn standard() -> Self {
        Self { mean: None, cov: Op::Scalar(1.0) }
    }
}

/// The joint Gaussian law of the sampler state (slots `Y_1..Y_m`): means and all covariance blocks.
#[derive(Debug, Clone)]
pub struct GaussLaw<C> {
    /// `E Y_b`.
    pub means: Vec<Option<Vec<f64>>>,
    /// `Cov(Y_b, Y_b')`, `m × m` blocks.
    pub cov: Vec<Vec<Op<C>>>,
}

impl<C: Coef> GaussLaw<C> {
    /// A one-slot law.
    pub fn single(m: Marginal<C>) -> Self {
        Self { means: vec![m.mean], cov: vec![vec![m.cov]] }
    }
    /// The mean of the position (slot 0), `None` for 0.
    pub fn position_mean(&self) -> Option<&[f64]> {
        self.means[0].as_deref()
    }
    /// The covariance of the position (slot 0).
    pub fn position_cov(&self) -> &Op<C> {
        &self.cov[0][0]
    }
    /// The marginal law of the position (slot 0).
    pub fn position(&self) -> Marginal<C> {
        Marginal { mean: self.means[0].clone(), cov: self.cov[0][0].clone() }
    }
}

/// The exact-law carrier for an affine score (see the module docs).
pub struct LawEngine<'a, C, T: ?Sized> {
    target: &'a T,
    law: GaussLaw<C>,
    next_noise: usize,
    evals: usize,
    cache: Option<(Coefficients, Op<C>, Option<Vec<f64>>)>,
}

impl<'a, C: Coef, T: LinearScore<C> + ?Sized> LawEngine<'a, C, T> {
    /// An engine for `target`, with the state law `start`.
    pub fn new(target: &'a T, start: Marginal<C>) -> Self {
        Self { target, law: GaussLaw::single(start), next_noise: 0, evals: 0, cache: None }
    }
    /// The current joint law.
    pub fn law(&self) -> &GaussLaw<C> {
        &self.law
    }
}

impl<C: Coef, T: LinearScore<C> + ?Sized> Algebra for LawEngine<'_, C, T> {
    type Value = Affine<C>;
    fn lin(&mut self, terms: &[(f64, &Affine<C>)]) -> Affine<C> {
        let mut out = terms[0].1.scaled(terms[0].0);
        for (c, v) in &terms[1..] {
            out.add_scaled(*c, v);
        }
        out
    }
    fn score(&mut self, at: &Coefficients, x: &Affine<C>) -> Result<Affine<C>, SolverError> {
        if self.cache.as_ref().is_none_or(|(c, _, _)| c != at) {
            let (l, c) = self.target.affine(at)?;
            self.cache = Some((*at, l, c));
        }
        let (_, l, c) = self.cache.as_ref().expect("just filled");
        self.evals += 1;
        let constant = match (&x.constant, c) {
            (None, None) => None,
            (None, Some(c)) => Some(c.clone()),
            (Some(x), None) => Some(l.apply(x)),
            (Some(x), Some(c)) => Some(l.apply(x).iter().zip(c).map(|(a, b)| a + b).collect()),
        };
        Ok(Affine {
            basis: x.basis.iter().map(|b| b.as_ref().map(|b| l.mul(b))).collect(),
            noise: x.noise.iter().map(|(i, g)| (*i, l.mul(g))).collect(),
            constant,
        })
    }
    fn data_mean(&mut self, at: &Coefficients) -> Result<Affine<C>, SolverError> {
        let mean = self.target.data_mean().ok_or(SolverError::NoDenoiser { t: at.t })?;
        self.evals += 1;
        let m = self.law.means.len();
        Ok(Affine { basis: vec![None; m], noise: Vec::new(), constant: mean.or_else(|| Some(vec![0.0; self.target.dim()])) })
    }
    fn noise(&mut self) -> Affine<C> {
        self.next_noise += 1;
        Affine { basis: Vec::new(), noise: vec![(self.next_noise, Op::Scalar(1.0))], constant: None }
    }
    fn score_evals(&self) -> usize {
        self.evals
    }
}

impl<C: Coef, T: LinearScore<C> + ?Sized> Carrier for LawEngine<'_, C, T> {
    fn open(&mut self) -> Vec<Affine<C>> {
        let m = self.law.means.len();
        (0..m)
            .map(|b| {
                let mut basis = vec![None; m];
                basis[b] = Some(Op::Scalar(1.0));
                Affine { basis, noise: Vec::new(), constant: None }
            })
            .collect()
    }
    fn close(&mut self, values: Vec<Affine<C>>) -> Result<(), SolverError> {
        let old = &self.law;
        let p = old.means.len();
        let m = values.len();
        let mut means = Vec::with_capacity(m);
        for v in &values {
            let mut mean: Option<Vec<f64>> = v.constant.clone();
            for (b, a) in v.basis.iter().enumerate().take(p) {
                if let (Some(a), Some(mb)) = (a, &old.means[b]) {
                    let y = a.apply(mb);
                    match &mut mean {
                        Some(acc) => acc.iter_mut().zip(&y).for_each(|(s, y)| *s += y),
                        None => mean = Some(y),
                    }
                }
            }
            means.push(mean);
        }
        let mut cov: Vec<Vec<Op<C>>> = vec![vec![Op::Scalar(0.0); m]; m];
        for i in 0..m {
            for j in i..m {
                let mut acc: Option<Op<C>> = None;
                let mut add = |term: Op<C>| match &mut acc {
                    Some(s) => s.add_scaled(1.0, &term),
                    None => acc = Some(term),
                };
                for (b, ai) in values[i].basis.iter().enumerate().take(p) {
                    let Some(ai) = ai else { continue };
                    for (bp, aj) in values[j].basis.iter().enumerate().take(p) {
                        if let Some(aj) = aj {
                            add(C::sandwich(ai, &old.cov[b][bp], aj));
                        }
                    }
                }
                for (id, g) in &values[i].noise {
                    if let Some((_, h)) = values[j].noise.iter().find(|(k, _)| k == id) {
                        add(g.mul_t(h));
                    }
                }
                let c = acc.unwrap_or(Op::Scalar(0.0));
                if i != j {
                    cov[j][i] = c.transpose();
                }
                cov[i][j] = c;
            }
        }
        self.law = GaussLaw { means, cov };
        self.next_noise = 0;
        Ok(())
    }
}

/// Where the exact-law run starts.
#[derive(Debug, Clone)]
pub enum LawStart<C> {
    /// The path's standard start `N(0, s² I)` (see [`crate::Start::Standard`]).
    Standard,
    /// The exact `p_T` of the target at the first grid point.
    Exact,
    /// A given law.
    Law(Marginal<C>),
}

/// The result of [`output_law`].
#[derive(Debug, Clone)]
pub struct LawOutput<C> {
    /// The exact law of the sampler's output.
    pub law: Marginal<C>,
    /// Score evaluations of the run.
    pub score_evals: usize,
}

/// The exact-law carrier [`output_law`] runs samplers on: the target behind a trait object, so that
/// one carrier type serves every affine score.
pub type LawCarrier<'a, C> = LawEngine<'a, C, dyn LinearScore<C> + 'a>;

/// A sampler that [`output_law`] runs with `C` coefficients (and that [`crate::score_evals`] can
/// count): it runs on the counting algebra, on [`LawCarrier`] and on the lane-wise
/// [`LaneCarrier`]. Every built-in and every sampler written as
/// `impl<A: Algebra + ?Sized> Sampler<A>` is one (blanket implementation); use it as the bound of
/// generic code over samplers.
pub trait LawSampler<C: Coef>: Sampler<Count> + for<'a> Sampler<LawCarrier<'a, C>> + for<'a> Sampler<LaneCarrier<'a, C>> {}

impl<C: Coef, S: Sampler<Count> + for<'a> Sampler<LawCarrier<'a, C>> + for<'a> Sampler<LaneCarrier<'a, C>> + ?Sized> LawSampler<C> for S {}

/// A sized handle on a possibly unsized target, to put it behind `dyn LinearScore<C>`.
struct ByRef<'a, T: ?Sized>(&'a T);

impl<C: Coef, T: LinearScore<C> + ?Sized> LinearScore<C> for ByRef<'_, T> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn affine(&self, at: &Coefficients) -> Result<(Op<C>, Option<Vec<f64>>), SolverError> {
        self.0.affine(at)
    }
    fn marginal(&self, at: &Coefficients) -> Marginal<C> {
        self.0.marginal(at)
    }
    fn data_mean(&self) -> Option<Option<Vec<f64>>> {
        self.0.data_mean()
    }
}

/// The state law after a step, as [`output_law`] shows it to its observer: the position's marginal
/// and the joint law of every slot, each computed only when asked (the lane engine keeps a
/// noise-free run in factored form, where the joint law costs `O(m²)` lane products to assemble).
pub trait StepLaw<C: Coef> {
    /// The marginal law of the position (slot 0).
    fn position(&self) -> Marginal<C>;
    /// The joint law of the slots `Y_1..Y_m` (means and all covariance blocks).
    fn joint(&self) -> std::borrow::Cow<'_, GaussLaw<C>>;
}

impl<C: Coef> StepLaw<C> for GaussLaw<C> {
    fn position(&self) -> Marginal<C> {
        GaussLaw::position(self)
    }
    fn joint(&self) -> std::borrow::Cow<'_, GaussLaw<C>> {
        std::borrow::Cow::Borrowed(self)
    }
}

/// The exact law of the output of `sampler` for an affine score, by running the sampler's own step
/// on Gaussian laws. `observe(k, law)` sees the state law at every grid point `k = 0..=S`
/// ([`StepLaw::position`], [`StepLaw::joint`]).
///
/// ```
/// use gmdiff_solvers::{Diag, EulerMaruyama, LawStart, Schedule, SpectralGaussian, output_law};
/// // One eigenvalue λ = 0.5, Euler–Maruyama, 200 steps: the output variance is close to λ.
/// let target = SpectralGaussian::centred(vec![0.5]).unwrap();
/// let s = Schedule::uniform_vp(200, 1e-3).unwrap();
/// let out = output_law(&EulerMaruyama, &s, &target, LawStart::<Diag>::Standard, |_, _| Ok(())).unwrap();
/// let gmdiff_solvers::Op::Full(v) = out.law.cov else { panic!() };
/// assert!((v.0[0] - 0.5).abs() < 0.05);
/// ```
pub fn output_law<C: Coef, T: LinearScore<C> + ?Sized, S: LawSampler<C> + ?Sized>(
    sampler: &S,
    schedule: &Schedule,
    target: &T,
    start: LawStart<C>,
    mut observe: impl FnMut(usize, &dyn StepLaw<C>) -> Result<(), SolverError>,
) -> Result<LawOutput<C>, SolverError> {
    let start = match start {
        LawStart::Standard => Marginal { mean: None, cov: Op::Scalar(schedule.start_std().powi(2)) },
        LawStart::Exact => target.marginal(&schedule.point(0)?),
        LawStart::Law(m) => m,
    };
    // One carrier type for every target (the target is called once per score evaluation, through
    // a pointer): so a sampler bound is `LawSampler<C>`, whatever the score.
    let erased = ByRef(target);
    let (law, score_evals) = if C::DIAGONAL {
        // Diagonal coefficients: the same arithmetic lane by lane, recorded once per step.
        let erased: &dyn LinearScore<C> = &erased;
        let mut engine: LaneCarrier<'_, C> = LaneEngine::new(erased, start)?;
        run(sampler, schedule, &mut engine, |k, e| observe(k, e))?;
        (engine.position(), engine.score_evals())
    } else {
        let mut engine: LawCarrier<'_, C> = LawEngine::new(&erased, start);
        run(sampler, schedule, &mut engine, |k, e| observe(k, &e.law))?;
        (engine.law.position(), engine.evals)
    };
    // NaN propagates through every later step (products, sums), so checking the end suffices.
    if law.cov.has_nan() || law.mean.as_ref().is_some_and(|m| m.iter().any(|v| v.is_nan())) {
        return Err(SolverError::NonFinite { what: "the exact output law", step: schedule.steps() });
    }
    Ok(LawOutput { law, score_evals })
}
