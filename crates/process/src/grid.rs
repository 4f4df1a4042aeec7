//! Time grids for the reverse-time samplers: forward times from `T` down to `ε`.
//!
//! | grid | spacing | source |
//! |---|---|---|
//! | [`TimeGrid::uniform`] | uniform in `t` | DPM-Solver `time_uniform` |
//! | [`TimeGrid::quadratic`] | uniform in `sqrt(t)` | DPM-Solver `time_quadratic` |
//! | [`TimeGrid::karras`] | uniform in `σ^{1/ρ}` | Karras et al. 2022, eq. 5; k-diffusion `get_sigmas_karras` |
//! | [`TimeGrid::exponential`] | uniform in `log σ` | k-diffusion `get_sigmas_exponential` |
//! | [`TimeGrid::polyexponential`] | `log σ` a degree-`ρ` polynomial of `k/S` | k-diffusion `get_sigmas_polyexponential` |
//! | [`TimeGrid::log_snr_uniform`] | uniform in `λ = log(a/b)` | DPM-Solver `logSNR` |
//!
//! `σ = b/a` is mapped back to `t` by [`GaussianPath::time_of_sigma`]; [`TimeGrid::with_final_zero`]
//! appends the last step to `t = 0`.

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

    /// Steps uniform in `sqrt(t)`: `t_k = (sqrt(T) + k/S (sqrt(ε) − sqrt(T)))²`, `ε ≥ 0`.
    ///
    /// This is DPM-Solver's `skip_type = "time_quadratic"` (Lu et al. 2022, `dpm_solver_pytorch.py`,
    /// `DPM_Solver.get_time_steps`: `linspace(t_T^{1/2}, t_0^{1/2}, N + 1)^2`). The steps shrink
    /// linearly towards `ε`: `t_k − t_{k+1} ≈ 2 sqrt(t_k) (sqrt(T) − sqrt(ε))/S`. (It is not the
    /// variant `ε + (T − ε)(1 − k/S)²`, which agrees with it only at `ε = 0`.)
    ///
    /// ```
    /// use gmdiff_process::{TimeGrid, VpLinear};
    /// let g = TimeGrid::quadratic(&VpLinear::default(), 2, 0.0).unwrap();
    /// assert_eq!(g.times(), &[1.0, 0.25, 0.0]);
    /// ```
    pub fn quadratic(process: &(impl GaussianPath + ?Sized), steps: usize, eps: f64) -> Result<Self, ProcessError> {
        let horizon = process.horizon();
        check_steps_eps(steps, eps, horizon, false)?;
        let (hi, lo) = (horizon.sqrt(), eps.sqrt());
        let mut times = room_for_steps(steps, 1)?;
        times.extend((0..=steps).map(|k| (hi + (k as f64 / steps as f64) * (lo - hi)).powi(2)));
        times[0] = horizon;
        times[steps] = eps;
        Self::from_times(process, times)
    }

    /// The EDM grid of Karras et al. (2022, eq. 5) in `σ = b/a`:
    /// `σ_k = (σ_max^{1/ρ} + k/S (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ`, mapped back to time through the
    /// path's inverse of `σ`; `σ_max = σ(T)`, `σ_min = σ(ε)`, `ε > 0`. k-diffusion:
    /// `get_sigmas_karras(S + 1, σ_min, σ_max, ρ)` without its appended zero (see
    /// [`TimeGrid::with_final_zero`]).
    ///
    /// Errors: [`ProcessError::Invalid`] when `σ(T)` is infinite (flow matching at `T = 1`).
    pub fn karras(process: &(impl GaussianPath + ?Sized), steps: usize, eps: f64, rho: f64) -> Result<Self, ProcessError> {
        check("rho", rho, |r| r > 0.0, "must be finite and > 0")?;
        Self::in_sigma(process, steps, eps, "Karras grid", |hi, lo, frac| {
            let (hi, lo) = (hi.powf(1.0 / rho), lo.powf(1.0 / rho));
            (hi + frac * (lo - hi)).powf(rho)
        })
    }

    /// Steps uniform in `log σ`, `σ = b/a`: `σ_k = exp(log σ_max + k/S (log σ_min − log σ_max))`,
    /// `σ_max = σ(T)`, `σ_min = σ(ε)`, `ε > 0`, mapped back to time through the path's inverse of `σ`.
    ///
    /// k-diffusion's `get_sigmas_exponential(S + 1, σ_min, σ_max)` (Crowson, `k_diffusion/sampling.py`)
    /// without its appended zero (see [`TimeGrid::with_final_zero`]). On a VP path this is the
    /// log-SNR-uniform grid (`log σ = −λ`), on EDM it is geometric in `t`.
    ///
    /// Errors: [`ProcessError::Invalid`] when `σ(T)` is infinite (flow matching at `T = 1`).
    pub fn exponential(process: &(impl GaussianPath + ?Sized), steps: usize, eps: f64) -> Result<Self, ProcessError> {
        Self::in_sigma(process, steps, eps, "exponential grid", |hi, lo, frac| (hi.ln() + frac * (lo.ln() - hi.ln())).exp())
    }

    /// A polynomial of degree `ρ` in `log σ`:
    /// `σ_k = exp(log σ_min + (1 − k/S)^ρ (log σ_max − log σ_min))`, `ρ > 0`, `σ_max = σ(T)`,
    /// `σ_min = σ(ε)`, `ε > 0`; `ρ = 1` is [`TimeGrid::exponential`], `ρ > 1` crowds the steps at
    /// small `σ`.
    ///
    /// k-diffusion's `get_sigmas_polyexponential(S + 1, σ_min, σ_max, ρ)` (Crowson,
    /// `k_diffusion/sampling.py`) without its appended zero.
    ///
    /// Errors: [`ProcessError::Invalid`] when `σ(T)` is infinite (flow matching at `T = 1`).
    pub fn polyexponential(process: &(impl GaussianPath + ?Sized), steps: usize, eps: f64, rho: f64) -> Result<Self, ProcessError> {
        check("rho", rho, |r| r > 0.0, "must be finite and > 0")?;
        Self::in_sigma(process, steps, eps, "polyexponential grid", |hi, lo, frac| {
            ((1.0 - frac).powf(rho) * (hi.ln() - lo.ln()) + lo.ln()).exp()
        })
    }

    /// A grid given in `σ = b/a`: `σ_k = sigma(σ(T), σ(ε), k/S)`, mapped to `t_k = time_of_sigma(σ_k)`,
    /// with the end points set to exactly `T` and `ε`.
    fn in_sigma(
        process: &(impl GaussianPath + ?Sized),
        steps: usize,
        eps: f64,
        what: &'static str,
        sigma: impl Fn(f64, f64, f64) -> f64,
    ) -> Result<Self, ProcessError> {
        let horizon = process.horizon();
        check_steps_eps(steps, eps, horizon, true)?;
        let (hi, lo) = (finite_sigma(process, horizon, what)?, finite_sigma(process, eps, what)?);
        let mut times = room_for_steps(steps, 1)?;
        times.extend((0..=steps).map(|k| process.time_of_sigma(sigma(hi, lo, k as f64 / steps as f64))));
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

    /// The grid followed by one more step to `t = 0` (`b = 0`, the data), when it ends at `ε > 0`;
    /// unchanged when it already ends at `0`.
    ///
    /// This is the final `σ = 0` that EDM (Karras et al. 2022, Algorithm 1/2: `t_N = 0`) and
    /// k-diffusion (`append_zero`) append after `σ_min`: EDM's `num_steps = N` is an `N − 1`-step
    /// grid from `σ_max` to `σ_min`, then this last step. A sampler takes that step through the `x₀`
    /// prediction (at `b = 0`, `x = a x₀`); the grids in `σ` need `ε > 0` because `log σ(0) = −∞`.
    ///
    /// ```
    /// use gmdiff_process::{Edm, TimeGrid};
    /// let g = TimeGrid::karras(&Edm::default(), 17, 0.002, 7.0).unwrap().with_final_zero();
    /// assert_eq!(g.steps(), 18); // EDM's num_steps = 18
    /// assert_eq!(g.times()[17..], [0.002, 0.0]);
    /// ```
    pub fn with_final_zero(mut self) -> Self {
        if self.times.last().is_some_and(|&t| t > 0.0) {
            self.times.push(0.0);
        }
        self
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

/// `σ(t) = b_t/a_t`, refused when infinite (`a_t = 0`) or zero (`b_t = 0`) for the grid `what`.
fn finite_sigma(process: &(impl GaussianPath + ?Sized), t: f64, what: &'static str) -> Result<f64, ProcessError> {
    let sigma = process.sigma_at(t);
    if !sigma.is_finite() {
        Err(ProcessError::Invalid { what, reason: format!("σ(t) = b_t/a_t is infinite at t = {t} (a_t = 0): use T < 1") })
    } else if sigma <= 0.0 {
        Err(ProcessError::Invalid { what, reason: format!("σ(t) = b_t/a_t is {sigma} at t = {t}: the grid needs σ(ε) > 0") })
    } else {
        Ok(sigma)
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
