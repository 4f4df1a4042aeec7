//! Discrete DDPM chains `X_k = sqrt(α_k) X_{k−1} + sqrt(1 − α_k) W_k`, `k = 1..N`, the `beta_schedule`
//! options of diffusers, the zero-terminal-SNR rescale, and diffusers' inference timestep spacings.
//!
//! | constructor | diffusers `beta_schedule` | `β_k`, `k = 1..N` |
//! |---|---|---|
//! | [`DiscreteChain::ho_linear`] | `linear` | evenly spaced from `β_1` to `β_N` (Ho et al. 2020) |
//! | [`DiscreteChain::scaled_linear`] | `scaled_linear` | `sqrt(β_k)` evenly spaced from `sqrt(β_1)` to `sqrt(β_N)` |
//! | [`DiscreteChain::squaredcos_cap_v2`] | `squaredcos_cap_v2` | `min(1 − ᾱ(k/N)/ᾱ((k−1)/N), 0.999)`, `ᾱ(t) = cos²(π/2 (t + 0.008)/1.008)` (Nichol–Dhariwal 2021, eq. 17) |
//! | [`DiscreteChain::rescale_zero_terminal_snr`] | `rescale_betas_zero_snr` | Lin et al. 2024, Algorithm 1 |
//!
//! diffusers computes the rates in `float32`; these are the same formulas in `f64`.
//!
//! Timesteps: diffusers' timestep `τ ∈ 0..N` indexes `alphas_cumprod[τ]`, the marginal after `τ + 1`
//! steps, which is this chain's step `k = τ + 1` ([`DiscreteChain::at`]`(τ + 1)`).

use crate::error::{ProcessError, check, room_for_steps};
use crate::process::Coefficients;
use std::f64::consts::FRAC_PI_2;

/// A discrete forward chain with rates `β_k = 1 − α_k ∈ (0, 1)`, `k = 1..N`.
///
/// Step `k` of the chain has the marginal `X_k = sqrt(ᾱ_k) X_0 + sqrt(1 − ᾱ_k) Z`, with
/// `ᾱ_k = Π_{j ≤ k} α_j` (and `ᾱ_0 = 1`).
///
/// ```
/// use gmdiff_process::DiscreteChain;
/// let chain = DiscreteChain::ho_linear(1000, 1e-4, 0.02).unwrap();
/// assert_eq!(chain.len(), 1000);
/// assert!(chain.alpha_bar(1000) < 1e-4);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DiscreteChain {
    betas: Vec<f64>,
    alpha_bars: Vec<f64>,
}

impl DiscreteChain {
    /// A chain with the given `β_1, …, β_N`, each in `(0, 1)`.
    ///
    /// `β_N = 1` (a zero terminal SNR, `a_N = 0`) is refused here; only
    /// [`DiscreteChain::rescale_zero_terminal_snr`] builds such a chain, on purpose.
    pub fn new(betas: Vec<f64>) -> Result<Self, ProcessError> {
        Self::build(betas, false)
    }

    /// [`DiscreteChain::new`], also accepting `β_N = 1` exactly when `zero_terminal` is set.
    fn build(betas: Vec<f64>, zero_terminal: bool) -> Result<Self, ProcessError> {
        if betas.is_empty() {
            return Err(ProcessError::Invalid { what: "discrete chain", reason: "no steps".into() });
        }
        let last = betas.len() - 1;
        for (k, &b) in betas.iter().enumerate() {
            if zero_terminal && k == last {
                check("beta_N", b, |b| b > 0.0 && b <= 1.0, "the last β must lie in (0, 1]")?;
            } else {
                check("beta_k", b, |b| b > 0.0 && b < 1.0, "each β_k must lie in (0, 1)")?;
            }
        }
        let mut alpha_bars = Vec::with_capacity(betas.len() + 1);
        alpha_bars.push(1.0);
        let mut product = 1.0;
        for &b in &betas {
            product *= 1.0 - b;
            alpha_bars.push(product);
        }
        Ok(Self { betas, alpha_bars })
    }

    /// Ho et al.'s linear rates: `β_k` evenly spaced from `β_1` to `β_N` (defaults `1e-4`, `0.02`, `N = 1000`).
    pub fn ho_linear(steps: usize, beta_first: f64, beta_last: f64) -> Result<Self, ProcessError> {
        check("beta_1", beta_first, |b| b > 0.0 && b < 1.0, "must lie in (0, 1)")?;
        check("beta_N", beta_last, |b| b > 0.0 && b < 1.0, "must lie in (0, 1)")?;
        let n = steps;
        let mut betas = room_for_steps(steps, 0)?;
        betas.extend((0..n).map(|k| if n == 1 { beta_first } else { beta_first + (beta_last - beta_first) * k as f64 / (n - 1) as f64 }));
        Self::new(betas)
    }

    /// diffusers' `scaled_linear` (the Stable Diffusion schedule): `sqrt(β_k)` evenly spaced from
    /// `sqrt(β_1)` to `sqrt(β_N)`, `β_k = (sqrt β_1 + (k − 1)/(N − 1) (sqrt β_N − sqrt β_1))²`
    /// (diffusers `DDIMScheduler.__init__`: `linspace(β_start^{0.5}, β_end^{0.5}, N)^2`; Stable
    /// Diffusion uses `β_1 = 0.00085`, `β_N = 0.012`, `N = 1000`).
    ///
    /// ```
    /// use gmdiff_process::DiscreteChain;
    /// let c = DiscreteChain::scaled_linear(3, 0.01, 0.09).unwrap(); // sqrt: 0.1, 0.2, 0.3
    /// assert!((c.beta(2) - 0.04).abs() < 1e-17);
    /// ```
    pub fn scaled_linear(steps: usize, beta_first: f64, beta_last: f64) -> Result<Self, ProcessError> {
        check("beta_1", beta_first, |b| b > 0.0 && b < 1.0, "must lie in (0, 1)")?;
        check("beta_N", beta_last, |b| b > 0.0 && b < 1.0, "must lie in (0, 1)")?;
        let (lo, hi) = (beta_first.sqrt(), beta_last.sqrt());
        let n = steps;
        let mut betas = room_for_steps(steps, 0)?;
        betas.extend((0..n).map(|k| {
            let root = if n == 1 { lo } else { lo + (hi - lo) * k as f64 / (n - 1) as f64 };
            root * root
        }));
        Self::new(betas)
    }

    /// diffusers' `squaredcos_cap_v2`, the cosine schedule of Nichol and Dhariwal (2021, eq. 17) in
    /// discrete time: `β_k = min(1 − ᾱ(k/N)/ᾱ((k − 1)/N), 0.999)`, `k = 1..N`, with
    /// `ᾱ(t) = cos²(π/2 · (t + 0.008)/1.008)` (diffusers `betas_for_alpha_bar`, `max_beta = 0.999`).
    ///
    /// With `c_j = sqrt(ᾱ(j/N)) = sin(π/2 ((N − j)/N)/(1 + s))`, `β_k = (c_{k−1} − c_k)(c_{k−1} + c_k)/c_{k−1}²`
    /// and `c_{k−1} − c_k = 2 sin(d/2) sin(π/2 (s + (k − ½)/N)/(1 + s))`, `d = π/2 · (1/N)/(1 + s)`:
    /// no subtraction cancels and no angle near `π/2` is rounded, so every `β_k` is accurate to a
    /// few ulps (the literal `1 − ᾱ(k/N)/ᾱ((k−1)/N)` loses up to `1e-13` near both ends). The cap binds at the last steps (`ᾱ(1) = 0`), so `ᾱ_N = Π (1 − β_k)`
    /// is small but not `0`.
    pub fn squaredcos_cap_v2(steps: usize) -> Result<Self, ProcessError> {
        const S: f64 = 0.008;
        const MAX_BETA: f64 = 0.999;
        let n = steps;
        let nf = n as f64;
        // c_j = sqrt(ᾱ(j/N)) = cos(π/2 (j/N + s)/(1 + s)) = sin(π/2 ((N − j)/N)/(1 + s)): the sine of
        // an angle away from π/2, so no ulp of the angle is amplified by tan near π/2.
        let c = |j: usize| (FRAC_PI_2 * ((n - j) as f64 / nf) / (1.0 + S)).sin();
        // c_{k−1} − c_k = 2 sin(d/2) sin(π/2 (s + (k − ½)/N)/(1 + s)), d = π/2 (1/N)/(1 + s).
        let half_d = (0.5 * FRAC_PI_2 / (nf * (1.0 + S))).sin();
        let mut betas = room_for_steps(steps, 0)?;
        betas.extend((1..=n).map(|k| {
            let (prev, next) = (c(k - 1), c(k));
            let gap = 2.0 * half_d * (FRAC_PI_2 * (S + (k as f64 - 0.5) / nf) / (1.0 + S)).sin();
            (gap * (prev + next) / (prev * prev)).min(MAX_BETA)
        }));
        Self::new(betas)
    }

    /// The zero-terminal-SNR rescale of Lin et al. (2024, "Common diffusion noise schedules and
    /// sample steps are flawed", Algorithm 1; diffusers `rescale_zero_terminal_snr`): with
    /// `s_k = sqrt(ᾱ_k)`, the new `s'_k = (s_k − s_N) s_1/(s_1 − s_N)`, an affine map with
    /// `s'_1 = s_1` and `s'_N = 0`; then `ᾱ'_k = s'_k²`, `α'_1 = ᾱ'_1`, `α'_k = ᾱ'_k/ᾱ'_{k−1}`,
    /// `β'_k = 1 − α'_k`. The chain keeps `ᾱ'_k = s'_k²` as computed ([`DiscreteChain::alpha_bar`]),
    /// not the product `Π (1 − β'_j)`, which agrees with it only to `Σ_j ε/α'_j`.
    ///
    /// **The last rate is `β'_N = 1` exactly**, so the chain ends at `a_N = 0`, `b_N = 1`,
    /// `λ_N = −∞`: the marginal at step `N` is pure noise, as on the flow path at `t = 1`. This is
    /// the one constructor that admits `β = 1`, on purpose (a typed error would make the schedule
    /// unusable). A step out of `k = N` must go through the `x₀` or `v` prediction
    /// ([`crate::Prediction`]): the `ε`-form `x₀ = (x − b ε)/a` is undefined at `a = 0`, and a
    /// sampler that divides by `a_N` must refuse such a chain ([`DiscreteChain::has_zero_terminal_snr`]).
    ///
    /// Errors: [`ProcessError::Invalid`] for a chain of one step or with `ᾱ_N = ᾱ_1` (the map is
    /// then undefined).
    ///
    /// ```
    /// use gmdiff_process::DiscreteChain;
    /// let c = DiscreteChain::scaled_linear(1000, 0.00085, 0.012).unwrap().rescale_zero_terminal_snr().unwrap();
    /// assert_eq!((c.alpha_bar(1000), c.beta(1000)), (0.0, 1.0));
    /// assert!(c.has_zero_terminal_snr());
    /// ```
    pub fn rescale_zero_terminal_snr(&self) -> Result<Self, ProcessError> {
        let n = self.len();
        let (first, last) = (self.alpha_bars[1].sqrt(), self.alpha_bars[n].sqrt());
        if n < 2 || first <= last {
            return Err(ProcessError::Invalid {
                what: "zero-terminal-SNR rescale",
                reason: format!("needs N ≥ 2 steps with sqrt(ᾱ_1) > sqrt(ᾱ_N), got N = {n}, {first} and {last}"),
            });
        }
        let scale = first / (first - last);
        let mut alpha_bars = room_for_steps(n, 1)?;
        alpha_bars.push(1.0);
        alpha_bars.extend((1..=n).map(|k| ((self.alpha_bars[k].sqrt() - last) * scale).powi(2)));
        alpha_bars[n] = 0.0;
        let betas: Vec<f64> = alpha_bars.windows(2).map(|w| 1.0 - w[1] / w[0]).collect();
        // Validate the rates as any chain's, but keep ᾱ'_k = s'_k² as computed: recomputing it as
        // Π (1 − β'_j) would lose ε/α'_j per step where α'_j = ᾱ'_j/ᾱ'_{j−1} is small (near k = N).
        let mut chain = Self::build(betas, true)?;
        chain.alpha_bars = alpha_bars;
        Ok(chain)
    }

    /// True when `β_N = 1`: the chain ends at `a_N = 0` (zero terminal SNR).
    pub fn has_zero_terminal_snr(&self) -> bool {
        self.alpha_bars[self.len()] == 0.0
    }

    /// The Li–Yan schedule (arXiv 2409.18959, eq. 2.3), used by Li–Cai–Wei:
    /// `β_1 = N^{−c₀}`, `β_{k+1} = (c₁ log N / N) · min(β_1 (1 + c₁ log N / N)^k, 1)`.
    ///
    /// Requires `N ≥ 2` and `c₁ log N / N < 1` so that every `β_k < 1`. THEORY §2 marks the formula
    /// as transcribed; the constants `c₀`, `c₁` are the caller's choice.
    pub fn li_yan(steps: usize, c0: f64, c1: f64) -> Result<Self, ProcessError> {
        check("c0", c0, |c| c > 0.0, "must be finite and > 0")?;
        check("c1", c1, |c| c > 0.0, "must be finite and > 0")?;
        if steps < 2 {
            return Err(ProcessError::Invalid { what: "Li–Yan schedule", reason: format!("needs at least 2 steps, got {steps}") });
        }
        let n = steps as f64;
        let rate = c1 * n.ln() / n;
        if rate >= 1.0 {
            return Err(ProcessError::Invalid {
                what: "Li–Yan schedule",
                reason: format!("c1 log N / N = {rate} must be < 1: use more steps or a smaller c1"),
            });
        }
        let beta_1 = n.powf(-c0);
        let mut betas = room_for_steps(steps, 0)?;
        betas.push(beta_1);
        let mut growth = beta_1;
        for _ in 1..steps {
            growth *= 1.0 + rate;
            betas.push(rate * growth.min(1.0));
        }
        Self::new(betas)
    }

    /// Number of steps `N`.
    pub fn len(&self) -> usize {
        self.betas.len()
    }
    /// Always false: a chain has at least one step.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// `β_k`, `k = 1..N`.
    pub fn beta(&self, k: usize) -> f64 {
        self.betas[k - 1]
    }
    /// `α_k = 1 − β_k`, `k = 1..N`.
    pub fn alpha(&self, k: usize) -> f64 {
        1.0 - self.betas[k - 1]
    }
    /// `ᾱ_k = Π_{j ≤ k} α_j`, `k = 0..N`.
    pub fn alpha_bar(&self, k: usize) -> f64 {
        self.alpha_bars[k]
    }
    /// All rates `β_1..β_N`.
    pub fn betas(&self) -> &[f64] {
        &self.betas
    }
    /// The marginal coefficients at step `k ∈ 0..=N`: `a = sqrt(ᾱ_k)`, `b = sqrt(1 − ᾱ_k)`,
    /// `log a = ½ log ᾱ_k`, `λ = log(a/b)`, `c² = 1` (`a = 0`, `log a = λ = −∞` at `k = N` on a
    /// zero-terminal-SNR chain); `t` is the step index as a float. A chain has
    /// no time derivatives: `da`, `db`, `f` and `g2` are NaN (the samplers that need them refuse
    /// chains).
    pub fn at(&self, k: usize) -> Result<Coefficients, ProcessError> {
        if k > self.len() {
            return Err(ProcessError::TimeOutOfRange { t: k as f64, horizon: self.len() as f64 });
        }
        Ok(Coefficients::discrete(k as f64, self.alpha_bars[k]))
    }
}

/// How diffusers' `set_timesteps` picks `num_inference_steps` of the `num_train_timesteps` training
/// timesteps (`timestep_spacing`; Lin et al. 2024, Table 2). See [`timesteps`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestepSpacing {
    /// `round(linspace(0, N − 1, n))`, reversed: `τ_j = round(j (N − 1)/(n − 1))`, `j = n − 1, …, 0`
    /// (`[0]` when `n = 1`). diffusers ignores `steps_offset` here.
    Linspace,
    /// `arange(n) · (N div n) + steps_offset`, reversed: `τ_j = j ⌊N/n⌋ + steps_offset`. diffusers'
    /// DDIM default, with `steps_offset = 1` in Stable Diffusion.
    Leading {
        /// Added to every timestep.
        steps_offset: usize,
    },
    /// `round(arange(N, 0, −N/n)) − 1`: `τ_j = round(N − j N/n) − 1`, `j = 0, …, n − 1`; starts at the
    /// last training timestep `N − 1`, as Lin et al. recommend. diffusers ignores `steps_offset` here.
    Trailing,
}

/// The timesteps `τ ∈ 0..N` (descending) that diffusers' `set_timesteps(n)` selects out of
/// `N = num_train_timesteps` (`DDIMScheduler.set_timesteps` and `DDPMScheduler.set_timesteps` in
/// `diffusers/schedulers/scheduling_ddim.py`, `scheduling_ddpm.py`). Timestep `τ` is this crate's
/// chain step `k = τ + 1`.
///
/// The arithmetic is numpy's, so that the values agree exactly: `round` is `numpy.round` (ties to
/// even: `499.5 → 500`, `812.5 → 812`); `linspace` is `j · ((N − 1)/(n − 1))` with the last point
/// set to `N − 1`; `arange(N, 0, −r)` is `N + j·((N − r) − N)` for `j ≥ 2` (numpy fills from the
/// first two points). numpy's `arange` length `⌈N/r⌉` exceeds `n` for some `(N, n)` (for example
/// `N = 1000`, `n = 61`), where diffusers returns an extra timestep `−1`; that artefact is dropped
/// here: exactly `n` timesteps are returned.
///
/// Errors: [`ProcessError::Invalid`] unless `1 ≤ n ≤ N`, or when `Leading`'s `steps_offset` pushes a
/// timestep to `N` or beyond (diffusers would index past `alphas_cumprod`).
///
/// ```
/// use gmdiff_process::{TimestepSpacing, timesteps};
/// assert_eq!(timesteps(TimestepSpacing::Trailing, 1000, 4).unwrap(), [999, 749, 499, 249]);
/// assert_eq!(timesteps(TimestepSpacing::Leading { steps_offset: 1 }, 1000, 4).unwrap(), [751, 501, 251, 1]);
/// assert_eq!(timesteps(TimestepSpacing::Linspace, 1000, 4).unwrap(), [999, 666, 333, 0]);
/// ```
pub fn timesteps(spacing: TimestepSpacing, num_train_timesteps: usize, num_inference_steps: usize) -> Result<Vec<usize>, ProcessError> {
    let (big_n, n) = (num_train_timesteps, num_inference_steps);
    if n == 0 || n > big_n {
        return Err(ProcessError::Invalid {
            what: "timestep spacing",
            reason: format!("needs 1 ≤ num_inference_steps ≤ num_train_timesteps, got {n} of {big_n}"),
        });
    }
    let mut out = room_for_steps(n, 0)?;
    let nf = big_n as f64;
    match spacing {
        TimestepSpacing::Linspace => {
            let step = if n > 1 { (nf - 1.0) / (n - 1) as f64 } else { 0.0 };
            // numpy sets the last point to `stop` only when n > 1; linspace(0, N − 1, 1) = [0].
            out.extend((0..n).rev().map(|j| if j == n - 1 && n > 1 { nf - 1.0 } else { j as f64 * step }.round_ties_even()));
        }
        TimestepSpacing::Leading { steps_offset } => {
            let ratio = big_n / n;
            let top = (n - 1) * ratio + steps_offset;
            if top >= big_n {
                return Err(ProcessError::Invalid {
                    what: "timestep spacing",
                    reason: format!("leading spacing with steps_offset = {steps_offset} reaches timestep {top} ≥ N = {big_n}"),
                });
            }
            out.extend((0..n).rev().map(|j| (j * ratio + steps_offset) as f64));
        }
        TimestepSpacing::Trailing => {
            let ratio = nf / n as f64;
            let delta = (nf - ratio) - nf;
            out.extend((0..n).map(|j| {
                let v = match j {
                    0 => nf,
                    1 => nf - ratio,
                    _ => nf + j as f64 * delta,
                };
                v.round_ties_even() - 1.0
            }));
        }
    }
    // Every value is an integer in [0, N) by construction (checked above for Leading).
    Ok(out.into_iter().map(|v| v as usize).collect())
}
