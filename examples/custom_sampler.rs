//! A sampler written outside gmdiff, run on particles and on exact Gaussian laws by the same code.
//!
//! The sampler is the explicit midpoint rule (second-order Runge–Kutta) on the probability-flow
//! ODE, which gmdiff does not ship. In reverse time with the drift `f(t, x) = −f_t x + ½ g_t² s_t(x)`
//! (VP: `β̃(t) (x + s_t(x))`, `β̃ = β/2`),
//! step length `h` and midpoint `m = t − h/2`:
//!
//! `k₁ = f(t, X)`, `k₂ = f(m, X + h/2 k₁)`, `X ← X + h k₂` (two score evaluations per step).
//!
//! Implementing [`Sampler`] once over a generic [`Algebra`] gives, with no other code:
//!
//! 1. the exact law of its output on a Gaussian target ([`output_law`]), here a non-centred 2-D
//!    Gaussian with a full covariance;
//! 2. particles from the same step ([`sample`]); their mean and covariance agree with the exact law
//!    within Monte Carlo error: each mean coordinate within 5 standard errors `sqrt(Σ_jj/n)`, each
//!    covariance entry within 5 standard errors `sqrt((Σ_ii Σ_jj + Σ_ij²)/n)` (Gaussian
//!    sample covariance), `n = 10⁵`;
//! 3. its cost, counted from the step code ([`score_evals`]: `2S`);
//! 4. its order of convergence: from the exact `p_T`, the exact output law's distance to the true
//!    `p_ε` falls by `≈ 2² = 4` when the step count doubles (second order).
//!
//! The walk-through is `docs/adding-a-sampler.md`.
//!
//! Run: `cargo run --release -p gmdiff --example custom_sampler`
use faer::Mat;
use gmdiff::process::{Coefficients, GaussianPath, VpLinear};
use gmdiff::solvers::{
    Algebra, Dense, DenseGaussian, LawStart, Op, Sampler, SamplerInfo, Schedule, SolverError, Start, StepInfo, output_law, refuse_chain,
    sample, score_evals,
};

/// The explicit midpoint rule on the probability-flow ODE.
#[derive(Debug, Clone, Copy)]
struct Midpoint;

impl SamplerInfo for Midpoint {
    fn name(&self) -> &'static str {
        "midpoint"
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        // The step is written in continuous time: refuse a discrete chain.
        refuse_chain(self.name(), schedule)
    }
}

/// The reverse-time probability-flow drift `k(t, x) = −f x + ½ g² s_t(x)` of any Gaussian path with
/// `a_t > 0` (VP: `β̃ (x + s_t(x))`), from the path's [`Coefficients`].
fn drift<A: Algebra + ?Sized>(alg: &mut A, at: &Coefficients, x: &A::Value) -> Result<A::Value, SolverError> {
    let s = alg.score(at, x)?;
    Ok(alg.lin(&[(-at.f, x), (0.5 * at.g2, &s)]))
}

impl<A: Algebra + ?Sized> Sampler<A> for Midpoint {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let m = info.mid.as_ref().ok_or(SolverError::Unsupported { sampler: "midpoint", schedule: "a schedule without midpoints" })?;
        let (t, h) = (&info.from, info.h);
        let x = &state[0];
        let k1 = drift(alg, t, x)?;
        let y = alg.lin(&[(1.0, x), (0.5 * h, &k1)]);
        let k2 = drift(alg, m, &y)?;
        state[0] = alg.lin(&[(1.0, x), (h, &k2)]);
        Ok(state)
    }
}

/// The mean and covariance of an exact-law output.
fn moments(law: &gmdiff::solvers::Marginal<Dense>) -> ([f64; 2], [[f64; 2]; 2]) {
    let m = law.mean.as_ref().map_or([0.0, 0.0], |m| [m[0], m[1]]);
    let c = match &law.cov {
        Op::Scalar(s) => [[*s, 0.0], [0.0, *s]],
        Op::Full(Dense(c)) => [[c[(0, 0)], c[(0, 1)]], [c[(1, 0)], c[(1, 1)]]],
    };
    (m, c)
}

fn sample_moments(x: &Mat<f64>) -> ([f64; 2], [[f64; 2]; 2]) {
    let n = x.nrows() as f64;
    let m = [0, 1].map(|j| (0..x.nrows()).map(|i| x[(i, j)]).sum::<f64>() / n);
    let c = [0, 1].map(|a| [0, 1].map(|b| (0..x.nrows()).map(|i| (x[(i, a)] - m[a]) * (x[(i, b)] - m[b])).sum::<f64>() / (n - 1.0)));
    (m, c)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mu, sigma) = (vec![1.0, -0.5], faer::mat![[1.2, 0.5], [0.5, 0.6]]);
    let target = DenseGaussian::new(mu.clone(), sigma.clone())?;
    let eps = 1e-3;
    println!("target N(μ, Σ), μ = {mu:?}, Σ = [[1.2, 0.5], [0.5, 0.6]]; sampler `{}`", Midpoint.name());

    // 1–3. Exact output law and particles, 40 steps from N(0, I).
    let steps = 40;
    let sched = Schedule::uniform_vp(steps, eps)?;
    let evals = score_evals(&Midpoint, &sched)?;
    assert_eq!(evals, 2 * steps, "two score evaluations per step");
    let law = output_law(&Midpoint, &sched, &target, LawStart::<Dense>::Standard, |_, _| Ok(()))?;
    assert_eq!(law.score_evals, evals);
    let (lm, lc) = moments(&law.law);
    let n = 100_000;
    let out = sample(&Midpoint, &sched, &target, Start::Standard, n, 2024)?;
    assert_eq!(out.score_evals, evals);
    let (pm, pc) = sample_moments(&out.samples);
    println!("{steps} steps, {evals} score evaluations; exact law vs {n} particles:");
    let nf = n as f64;
    let mut worst: f64 = 0.0;
    for j in 0..2 {
        let z = (pm[j] - lm[j]) / (lc[j][j] / nf).sqrt();
        println!("  mean[{j}]   exact {:>9.5}  particles {:>9.5}  z = {z:>6.2}", lm[j], pm[j]);
        worst = worst.max(z.abs());
    }
    for (a, b) in [(0, 0), (0, 1), (1, 1)] {
        let se = ((lc[a][a] * lc[b][b] + lc[a][b] * lc[a][b]) / nf).sqrt();
        let z = (pc[a][b] - lc[a][b]) / se;
        println!("  cov[{a}{b}]   exact {:>9.5}  particles {:>9.5}  z = {z:>6.2}", lc[a][b], pc[a][b]);
        worst = worst.max(z.abs());
    }
    assert!(worst <= 5.0, "particles and exact law disagree: |z| = {worst:.2} > 5");

    // 4. Second order: error of the exact output law against the true p_ε, from the exact p_T.
    let at = VpLinear::default().at(eps)?;
    let (true_m, true_c) = (
        [at.a * mu[0], at.a * mu[1]],
        [0, 1].map(|a| [0, 1].map(|b| at.a * at.a * sigma[(a, b)] + if a == b { at.b * at.b } else { 0.0 })),
    );
    let mut errors = Vec::new();
    for steps in [20, 40, 80] {
        let law = output_law(&Midpoint, &Schedule::uniform_vp(steps, eps)?, &target, LawStart::<Dense>::Exact, |_, _| Ok(()))?;
        let (m, c) = moments(&law.law);
        let e = (0..2)
            .map(|j| (m[j] - true_m[j]).abs())
            .chain((0..4).map(|k| (c[k / 2][k % 2] - true_c[k / 2][k % 2]).abs()))
            .fold(0.0, f64::max);
        errors.push(e);
    }
    let orders: Vec<f64> = errors.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
    let shown: Vec<String> = errors.iter().map(|e| format!("{e:.3e}")).collect();
    println!("from the exact p_T: max moment error vs p_ε at 20/40/80 steps {shown:?}, observed orders {orders:.3?}");
    for p in &orders {
        assert!((p - 2.0).abs() < 0.3, "midpoint is second order: observed {p:.3}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs_and_its_checks_hold() {
        super::main().unwrap();
    }
}
