//! Time grids for the reverse-time samplers: forward times from `T` down to `ε`.

use crate::error::{ProcessError, check, room_for_steps};
use crate::process::ForwardProcess;

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
    pub fn from_times(process: &impl ForwardProcess, times: Vec<f64>) -> Result<Self, ProcessError> {
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
    pub fn uniform(process: &impl ForwardProcess, steps: usize, eps: f64) -> Result<Self, ProcessError> {
        let horizon = process.horizon();
        check_steps_eps(steps, eps, horizon, false)?;
        let span = horizon - eps;
        let mut times = room_for_steps(steps, 1)?;
        times.extend((0..=steps).map(|k| horizon - span * (k as f64 / steps as f64)));
        times[steps] = eps;
        Self::from_times(process, times)
    }

    /// The EDM grid of Karras et al. in `σ = b/a`: `σ_k = (σ_max^{1/ρ} + k/S (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ`,
    /// mapped back to time through `B(t) = log1p(σ²)`; `σ_max = σ(T)`, `σ_min = σ(ε)`, `ε > 0`.
    pub fn karras(process: &impl ForwardProcess, steps: usize, eps: f64, rho: f64) -> Result<Self, ProcessError> {
        let horizon = process.horizon();
        check_steps_eps(steps, eps, horizon, true)?;
        check("rho", rho, |r| r > 0.0, "must be finite and > 0")?;
        let sigma = |t: f64| process.integrated_beta(t).exp_m1().sqrt();
        let (hi, lo) = (sigma(horizon).powf(1.0 / rho), sigma(eps).powf(1.0 / rho));
        let mut times = room_for_steps(steps, 1)?;
        times.extend((0..=steps).map(|k| {
            let s = (hi + (k as f64 / steps as f64) * (lo - hi)).powf(rho);
            process.time_of_integrated_beta((s * s).ln_1p())
        }));
        times[0] = horizon;
        times[steps] = eps;
        Self::from_times(process, times)
    }

    /// Equal steps in log-SNR `λ = log(a²/b²)` from `λ(T)` to `λ(ε)`, `ε > 0`.
    pub fn log_snr_uniform(process: &impl ForwardProcess, steps: usize, eps: f64) -> Result<Self, ProcessError> {
        let horizon = process.horizon();
        check_steps_eps(steps, eps, horizon, true)?;
        let (l0, l1) = (process.log_snr(horizon), process.log_snr(eps));
        let mut times = room_for_steps(steps, 1)?;
        times.extend((0..=steps).map(|k| process.time_of_log_snr(l0 + (l1 - l0) * (k as f64 / steps as f64))));
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
