//! The state algebra: the few operations a sampler step is made of.
//!
//! A step of every sampler in this crate is written once, generically over an [`Algebra`]:
//!
//! * `lin`: a linear combination `Σ_i c_i v_i` of values with scalar coefficients,
//! * `score`: the score `s_t(v)` of a value at the process coefficients of time `t`,
//! * `noise`: a fresh standard normal `ξ ~ N(0, I_d)`, independent of everything before.
//!
//! A sampler's *state* is a short list of values ("slots"): slot 0 is the position `X_k`; multistep
//! methods keep history (DPM-Solver++(2M) keeps the previous data estimate) and kinetic correctors a
//! velocity. A [`Carrier`] opens the state at the start of a step and closes it at the end.
//!
//! Two carriers exist: [`crate::Particles`] (a batch of `n` points, `lin` is arithmetic, `noise`
//! draws from the particles' own random streams) and [`crate::LawEngine`] (exact Gaussian laws:
//! values are affine maps of the step's start and of the step's fresh noise, `score` of an affine
//! value is affine because the score is linear, and `close` collapses them into the new joint
//! Gaussian law). So the same step code gives samples *and* the exact law of the samples.
//!
//! ```
//! use gmdiff_solvers::{Algebra, SolverError};
//! use gmdiff_process::Coefficients;
//! /// A toy scalar algebra: values are numbers, the score is −x, noise is 0.
//! struct Toy;
//! impl Algebra for Toy {
//!     type Value = f64;
//!     fn lin(&mut self, terms: &[(f64, &f64)]) -> f64 { terms.iter().map(|(c, v)| c * *v).sum() }
//!     fn score(&mut self, _: &Coefficients, x: &f64) -> Result<f64, SolverError> { Ok(-x) }
//!     fn noise(&mut self) -> f64 { 0.0 }
//!     fn score_evals(&self) -> usize { 0 }
//! }
//! let mut a = Toy;
//! assert_eq!(a.lin(&[(2.0, &1.5), (-1.0, &0.5)]), 2.5);
//! ```
use crate::error::SolverError;
use gmdiff_process::Coefficients;

/// The operations of a sampler step (see the module docs).
pub trait Algebra {
    /// A value: a batch of points, or an affine expression for the exact-law engine.
    type Value: Clone;
    /// `Σ_i c_i v_i`; `terms` is never empty.
    fn lin(&mut self, terms: &[(f64, &Self::Value)]) -> Self::Value;
    /// The score `s_t(x)` at the process coefficients `at`; counts one score evaluation.
    fn score(&mut self, at: &Coefficients, x: &Self::Value) -> Result<Self::Value, SolverError>;
    /// The `x₀` prediction `x̂₀ = E[x₀ | x_t = x]`; counts one score evaluation.
    ///
    /// By default Tweedie's formula `x̂₀ = (x + b² s_t(x))/a` where `a_t > 0` and
    /// [`Algebra::data_mean`] where `a_t = 0` (the flow path's start).
    fn denoise(&mut self, at: &Coefficients, x: &Self::Value) -> Result<Self::Value, SolverError> {
        if at.a > 0.0 {
            let s = self.score(at, x)?;
            Ok(self.lin(&[(1.0 / at.a, x), (at.b * at.b / at.a, &s)]))
        } else {
            self.data_mean(at)
        }
    }
    /// The data mean `E x₀` as a value: the `x₀` prediction at `a_t = 0`; counts one score
    /// evaluation. The default is [`SolverError::NoDenoiser`].
    fn data_mean(&mut self, at: &Coefficients) -> Result<Self::Value, SolverError> {
        Err(SolverError::NoDenoiser { t: at.t })
    }
    /// A fresh `N(0, I_d)` value, independent of every value before.
    fn noise(&mut self) -> Self::Value;
    /// The number of score evaluations so far (per particle).
    fn score_evals(&self) -> usize;
}

/// An [`Algebra`] that holds a sampler state between steps.
pub trait Carrier: Algebra {
    /// The current state as values (slot 0 is the position).
    fn open(&mut self) -> Vec<Self::Value>;
    /// Stores the state at the end of a step (`values[0]` is the new position).
    fn close(&mut self, values: Vec<Self::Value>) -> Result<(), SolverError>;
}
