//! Discrete DDPM chains `X_k = sqrt(α_k) X_{k−1} + sqrt(1 − α_k) W_k`, `k = 1..N`.

use crate::error::{ProcessError, check, room_for_steps};
use crate::process::Coefficients;

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
    pub fn new(betas: Vec<f64>) -> Result<Self, ProcessError> {
        if betas.is_empty() {
            return Err(ProcessError::Invalid { what: "discrete chain", reason: "no steps".into() });
        }
        for &b in &betas {
            check("beta_k", b, |b| b > 0.0 && b < 1.0, "each β_k must lie in (0, 1)")?;
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
    /// `log a = ½ log ᾱ_k`, `λ = log(a/b)`, `c² = 1`; `t` is the step index as a float. A chain has
    /// no time derivatives: `da`, `db`, `f` and `g2` are NaN (the samplers that need them refuse
    /// chains).
    pub fn at(&self, k: usize) -> Result<Coefficients, ProcessError> {
        if k > self.len() {
            return Err(ProcessError::TimeOutOfRange { t: k as f64, horizon: self.len() as f64 });
        }
        let ab = self.alpha_bars[k];
        let (a, b) = (ab.sqrt(), (1.0 - ab).sqrt());
        Ok(Coefficients {
            t: k as f64,
            a,
            b,
            da: f64::NAN,
            db: f64::NAN,
            log_a: 0.5 * ab.ln(),
            lambda: a.ln() - b.ln(),
            f: f64::NAN,
            g2: f64::NAN,
            c2: 1.0,
        })
    }
}
