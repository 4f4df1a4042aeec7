//! Time grids for the reverse-time samplers: forward times from `T` down to `ε`.

use crate::error::{ProcessError, check, room_for_steps};
use crate::process::GaussianPath;

/// A decreasing grid of forward times `T = t_0 > t_1 > … > t_S = ε ≥ 0`: `S` steps, `S + 1` points.
///
/// Step `k` of a sampler goes from forward time `t_k` to `t_{k+1}`.
///
/// ```
/// use gmdiff_process::{TimeGrid, VpLinear};
/// let g = TimeGrid::uniform(&VpLinear::default(), 4, 1e-3).unwrap();
/// let expected = [1.0, 0.75025, 0.5005, 0.25075, 1e-3];
/// assert!(g.times().iter().zip(expected).all(|(t, e)| (t - e).abs() < 1e-15));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TimeGrid {
    times: Vec<f64>,
}

impl TimeGrid {
    /// A grid from explicit times; they must be finite, strictly decreasing, within `[0, T]`.
    pub fn from_times(process: &(impl GaussianPath + ?Sized), times: Vec<f64>) -> Result<Self, ProcessError> {
        if times.len() < 2 {
            return Err(ProcessError::Invalid { what: "time grid", reason: "needs at least 2 points".into() });
        }
        let horizon = process.horizon();
        for &t in &times {
            if !(t.is_finite() && (0.0..=horizon).contains(&t)) {
                return Err(ProcessError::TimeOutOfRange { t, horizon });
            }
        }
        if let Some(w) = times.windows(2).find(|w| w[1] >= w[0]) {
            return Err(ProcessError::Invalid {
                what: "time grid",
                reason: format!("times must decrease strictly, found {} then {}", w[0], w[1]),
            });
        }
        Ok(Self { times })
    }

    /// `S` equal steps from `T` to `ε`: `t_k = T − (T − ε) k / S` (THEORY §3).
    pub fn uniform(process: &(impl GaussianPath + ?Sized), steps: usize, eps: f64) -> Result<Self, ProcessError> {
        let horizon = process.horizon();
        check_steps_eps(steps, eps, horizon, false)?;
        let span = horizon - eps;
        let mut times = room_for_steps(steps, 1)?;
        times.extend((0..=steps).map(|k| horizon - span * (k as f64 / steps as f64)));
        times[steps] = eps;
        Self::from_times(process, times)
    }

    /// The EDM grid of Karras et al. (2022, eq. 5) in `σ = b/a`:
    /// `σ_k = (σ_max^{1/ρ} + k/S (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ`, mapped back to time through the
    /// path's inverse of `σ`; `σ_max = σ(T)`, `σ_min = σ(ε)`, `ε > 0`.
    ///
    /// Errors: [`ProcessError::Invalid`] when `σ(T)` is infinite (flow matching at `T = 1`).
    pub fn karras(process: &(impl GaussianPath + ?Sized), steps: usize, eps: f64, rho: f64) -> Result<Self, ProcessError> {
        let horizon = process.horizon();
        check_steps_eps(steps, eps, horizon, true)?;
        check("rho", rho, |r| r > 0.0, "must be finite and > 0")?;
        let (hi, lo) = (finite_sigma(process, horizon)?.powf(1.0 / rho), finite_sigma(process, eps)?.powf(1.0 / rho));
        let mut times = room_for_steps(steps, 1)?;
        times.extend((0..=steps).map(|k| {
            let s = (hi + (k as f64 / steps as f64) * (lo - hi)).powf(rho);
            process.time_of_sigma(s)
        }));
        times[0] = horizon;
        times[steps] = eps;
        Self::from_times(process, times)
    }

    /// Equal steps in `λ = log(a/b)` (half the log-SNR) from `λ(T)` to `λ(ε)`, `ε > 0`: the grid of
    /// DPM-Solver (Lu et al. 2022, "logSNR"). Errors: [`ProcessError::Invalid`] when `λ(T) = −∞`.
    pub fn log_snr_uniform(process: &(impl GaussianPath + ?Sized), steps: usize, eps: f64) -> Result<Self, ProcessError> {
        let horizon = process.horizon();
        check_steps_eps(steps, eps, horizon, true)?;
        let (l0, l1) = (process.eval(horizon).lambda, process.eval(eps).lambda);
        if !l0.is_finite() {
            return Err(ProcessError::Invalid { what: "log-SNR grid", reason: format!("λ(T) = {l0} is not finite (a_T = 0): use T < 1") });
        }
        let mut times = room_for_steps(steps, 1)?;
        times.extend((0..=steps).map(|k| process.time_of_lambda(l0 + (l1 - l0) * (k as f64 / steps as f64))));
        times[0] = horizon;
        times[steps] = eps;
        Self::from_times(process, times)
    }

    /// The times `t_0 > … > t_S`.
    pub fn times(&self) -> &[f64] {
        &self.times
    }
    /// Number of steps `S`.
    pub fn steps(&self) -> usize {
        self.times.len() - 1
    }
    /// The steps as pairs `(t_k, t_{k+1})`.
    pub fn steps_iter(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.times.windows(2).map(|w| (w[0], w[1]))
    }
}

/// `σ(t) = b_t/a_t`, refused when infinite (`a_t = 0`).
fn finite_sigma(process: &(impl GaussianPath + ?Sized), t: f64) -> Result<f64, ProcessError> {
    let sigma = process.sigma_at(t);
    if sigma.is_finite() {
        Ok(sigma)
    } else {
        Err(ProcessError::Invalid { what: "Karras grid", reason: format!("σ(t) = b_t/a_t is infinite at t = {t} (a_t = 0): use T < 1") })
    }
}

fn check_steps_eps(steps: usize, eps: f64, horizon: f64, positive: bool) -> Result<(), ProcessError> {
    if steps == 0 {
        return Err(ProcessError::Invalid { what: "time grid", reason: "needs at least 1 step".into() });
    }
    if positive {
        check("eps", eps, |e| e > 0.0 && e < horizon, "must satisfy 0 < ε < T for this grid")?;
    } else {
        check("eps", eps, |e| e >= 0.0 && e < horizon, "must satisfy 0 ≤ ε < T")?;
    }
    Ok(())
}
