//! Independent references for the non-VP paths (issue 12): scalar recurrences written from each
//! path's definition and its sampler's paper, not from our step code or our coefficients.
//!
//! On Gaussian data `N(μ, λ)` (one lane per coordinate) every step below is affine,
//! `x ← A x + B + σ ξ`, so the mean and variance of the output follow the scalar recurrences
//! `m ← A m + B`, `P ← A² P + σ²`. The exact-law engine must reproduce them to 1e-10.
//!
//! * Euler in `t` on flow matching (`x_t = (1 − t) x₀ + t ε`): the velocity is
//!   `v(t, x) = E[ε − x₀ | x_t = x]`; with `V = (1 − t)² λ + t²` and `c = x − (1 − t) μ`,
//!   `E[x₀ | x] = μ + (1 − t) λ c / V` and `E[ε | x] = t c / V` (Gaussian conditioning), and the
//!   reverse Euler step is `x ← x − h v(t, x)`.
//! * DDIM on VE and EDM (`a = 1`): `x̂₀ = μ + λ/(λ + b_t²) (x − μ)`, `ε̂ = (x − x̂₀)/b_t`, and
//!   `x_s = x̂₀ + sqrt(b_s² − σ²) ε̂ + σ ξ` with `σ² = η² b_s² (b_t² − b_s²)/b_t²`, the variance of
//!   `q(x_s | x_t, x₀)` of the chain `x_t = x_s + sqrt(b_t² − b_s²) z` (Song, Meng & Ermon 2021,
//!   eq. 16, for `a = 1`). At `η = 0` this is the Euler step in `σ` of Karras et al. (2022, Alg. 1,
//!   line 4): `x_s = x_t + (σ_s − σ_t) (x_t − D(x_t))/σ_t`.
//!
//! VE's `b_t² = σ_min² ((σ_max/σ_min)^{2t} − 1)` (Song et al. 2021, eq. 29) and EDM's `b_t = t` are
//! written out here too, not read from the path.

use gmdiff_process::{Edm, Flow, GaussianPath, Process, TimeGrid, Ve};
use gmdiff_solvers::{Ddim, Diag, Euler, LawSampler, LawStart, Marginal, Op, Schedule, SpectralGaussian, output_law};

const LAMBDAS: [f64; 4] = [0.0, 0.04, 1.0, 6.0];
const MEANS: [f64; 4] = [0.3, -1.5, 0.0, 2.0];

fn target() -> SpectralGaussian {
    SpectralGaussian::new(LAMBDAS.to_vec(), Some(MEANS.to_vec())).unwrap()
}

/// The engine's output (means, variances) from `N(0, s² I)`.
fn engine(sampler: &impl LawSampler<Diag>, schedule: &Schedule, s: f64) -> (Vec<f64>, Vec<f64>) {
    let t = target();
    let start = LawStart::Law(Marginal { mean: None, cov: Op::Scalar(s * s) });
    let out = output_law(sampler, schedule, &t, start, |_, _| Ok(())).unwrap();
    let var = match out.law.cov {
        Op::Full(Diag(v)) => v,
        Op::Scalar(v) => vec![v; LAMBDAS.len()],
    };
    (out.law.mean.unwrap_or(vec![0.0; LAMBDAS.len()]), var)
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-10 * w.abs().max(1.0), "{what}, lane {i}: engine {g} vs reference {w}");
    }
}

#[test]
fn euler_in_t_on_flow_matches_the_velocity_recurrence() {
    for steps in [1usize, 2, 7, 50, 400] {
        let path = Flow::default();
        let grid = TimeGrid::uniform(&path, steps, 0.0).unwrap();
        let times = grid.times().to_vec();
        let (mean, var) = engine(&Euler, &Schedule::grid(Process::Flow(path), grid), 1.0);
        let (mut m, mut p) = (vec![0.0; 4], vec![1.0; 4]);
        for w in times.windows(2) {
            let (t, h) = (w[0], w[0] - w[1]);
            for i in 0..4 {
                let (lam, mu) = (LAMBDAS[i], MEANS[i]);
                let v_var = (1.0 - t) * (1.0 - t) * lam + t * t;
                // v(x) = E[ε | x] − E[x₀ | x] = k (x − (1 − t) μ) − μ
                let k = (t - (1.0 - t) * lam) / v_var;
                let (a, b) = (1.0 - h * k, -h * (-k * (1.0 - t) * mu - mu));
                m[i] = a * m[i] + b;
                p[i] *= a * a;
            }
        }
        assert_close(&format!("flow Euler mean, {steps} steps"), &mean, &m);
        assert_close(&format!("flow Euler variance, {steps} steps"), &var, &p);
    }
}

/// The DDIM recurrence for `a = 1` on the noise levels `b_0 > … > b_S`.
fn ddim_reference(levels: &[f64], eta: f64, start_var: f64) -> (Vec<f64>, Vec<f64>) {
    let (mut m, mut p) = (vec![0.0; 4], vec![start_var; 4]);
    for w in levels.windows(2) {
        let (bt, bs) = (w[0], w[1]);
        let sigma_sq = eta * eta * bs * bs * (bt * bt - bs * bs) / (bt * bt);
        let keep = (bs * bs - sigma_sq).sqrt() / bt;
        for i in 0..4 {
            let (lam, mu) = (LAMBDAS[i], MEANS[i]);
            let g = lam / (lam + bt * bt);
            // x_s = x̂₀ (1 − keep) + keep x + σ ξ, x̂₀ = g x + (1 − g) μ
            let (a, b) = (g * (1.0 - keep) + keep, (1.0 - g) * mu * (1.0 - keep));
            m[i] = a * m[i] + b;
            p[i] = a * a * p[i] + sigma_sq;
        }
    }
    (m, p)
}

#[test]
fn ddim_on_ve_matches_the_posterior_recurrence() {
    let (sigma_min, sigma_max) = (0.01f64, 50.0f64);
    let path = Ve::new(sigma_min, sigma_max).unwrap();
    for steps in [1usize, 3, 20, 300] {
        for eta in [0.0, 0.5, 1.0] {
            let eps = 1e-3;
            let grid = TimeGrid::uniform(&path, steps, eps).unwrap();
            let levels: Vec<f64> = grid.times().iter().map(|&t| sigma_min * ((sigma_max / sigma_min).powf(2.0 * t) - 1.0).sqrt()).collect();
            let (mean, var) = engine(&Ddim { eta }, &Schedule::grid(Process::Ve(path), grid), sigma_max);
            let (m, p) = ddim_reference(&levels, eta, sigma_max * sigma_max);
            assert_close(&format!("VE DDIM(η = {eta}) mean, {steps} steps"), &mean, &m);
            assert_close(&format!("VE DDIM(η = {eta}) variance, {steps} steps"), &var, &p);
        }
    }
}

#[test]
fn ddim_on_edm_matches_the_karras_euler_recurrence() {
    let path = Edm::default();
    for steps in [2usize, 18, 100] {
        for eta in [0.0, 1.0] {
            let grid = TimeGrid::karras(&path, steps, 0.002, 7.0).unwrap();
            // EDM: σ(t) = t, so the noise levels are the grid times themselves (Karras et al., Table 1).
            let levels = grid.times().to_vec();
            let (mean, var) = engine(&Ddim { eta }, &Schedule::grid(Process::Edm(path), grid), 80.0);
            let (m, p) = ddim_reference(&levels, eta, 6400.0);
            assert_close(&format!("EDM DDIM(η = {eta}) mean, {steps} steps"), &mean, &m);
            assert_close(&format!("EDM DDIM(η = {eta}) variance, {steps} steps"), &var, &p);
        }
    }
    assert_eq!(path.start_std(), 80.0);
}
