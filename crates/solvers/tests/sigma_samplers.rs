//! The k-diffusion / EDM samplers of issue 13 (euler-a, edm-heun, edm-sde, dpm2, dpm2-a) against an
//! independent scalar oracle, their score-evaluation counts, and their typed refusals.
//!
//! **The oracle.** Each sampler is written here again, line by line from k-diffusion's
//! `k_diffusion/sampling.py` (`get_ancestral_step`, `sample_euler_ancestral`, `sample_heun`,
//! `sample_dpm_2`, `sample_dpm_2_ancestral`) and Karras et al. (2022, Algorithms 1 and 2), on the
//! scaled variable `x̃ = x/a` at the noise levels `σ = b/a`, never through gmdiff's paths or step
//! code. On Gaussian data `N(μ, v)` (one lane per eigen-coordinate) the denoiser is
//! `D(x̃, σ) = μ + v/(v + σ²)(x̃ − μ)` (Gaussian conditioning of `x₀` on `x₀ + σ z`), so every step
//! is `x̃ ← A x̃ + B + c ξ` and the law of `x̃` follows `m ← A m + B`, `P ← A² P + c²` (churn noise,
//! drawn before the Heun step, enters as `P ← P + c²` first). The output is `x = a_S x̃_S`.
//!
//! The noise levels are written out from the path definitions: VP linear
//! `σ(t) = sqrt(e^{B(t)} − 1)`, `a = e^{−B/2}`, `B(t) = 0.1 t + 9.95 t²` (Song et al. 2021);
//! EDM `σ(t) = t`, `a = 1`, the Karras grid `σ_k = (σ_max^{1/ρ} + k/S (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ`
//! (Karras et al. 2022, eq. 5) with `σ_max = 80`, `σ_min = 0.002`, `ρ = 7`; flow matching
//! `σ(t) = t/(1 − t)`, `a = 1 − t`. The oracle runs in double-double arithmetic (about 32 digits;
//! k-diffusion's `x̃ + (σ_s − σ_t) d` cancels, and in f64 the oracle itself was 1.4e-8 off on one
//! VP step), so the gap measures the engine. Tolerance: 1e-10 relative (means relative to
//! `|m| + sqrt(P)`; gaps ≤ 1e-20 count as 0: a null lane landing on `σ = 0` has variance 0 exactly).

use gmdiff_process::{DiscreteChain, Edm, Flow, GaussianPath, Process, TimeGrid, Ve, VpCosine, VpLinear};
use gmdiff_solvers::{
    Builtin, Count, Ddim, DenseGaussian, Diag, Dpm2, Dpm2Ancestral, EdmHeun, EdmSde, EulerAncestral, LawSampler, LawStart, Op, Schedule,
    SolverError, SpectralGaussian, Start, output_law, run, sample, score_evals,
};

const LAMBDAS: [f64; 5] = [0.0, 0.04, 1.0, 6.0, 150.0];
const MEANS: [f64; 5] = [0.3, -1.5, 0.0, 2.0, -0.7];

fn target() -> SpectralGaussian {
    SpectralGaussian::new(LAMBDAS.to_vec(), Some(MEANS.to_vec())).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Double-double arithmetic for the oracle, so that its own rounding (k-diffusion's formulas cancel:
// `x̃ + (σ_s − σ_t) d` is small where `x̃` and `σ_t d` are large) does not enter the comparison.

/// A double-double number `hi + lo`, `|lo| ≤ ulp(hi)/2` (about 32 significant digits): Dekker's
/// two-sum and the FMA two-product (Hida, Li & Bailey 2001, "sloppy" add, one Newton step for
/// division and the square root).
#[derive(Debug, Clone, Copy, PartialEq)]
struct R(f64, f64);

impl R {
    fn new(x: f64) -> R {
        R(x, 0.0)
    }
    fn two_sum(a: f64, b: f64) -> R {
        let s = a + b;
        let bb = s - a;
        R(s, (a - (s - bb)) + (b - bb))
    }
    fn quick(a: f64, b: f64) -> R {
        let s = a + b;
        R(s, b - (s - a))
    }
    fn f(self) -> f64 {
        self.0 + self.1
    }
    fn sqrt(self) -> R {
        if self.0 <= 0.0 {
            return R::new(0.0);
        }
        let y = R::new(self.0.sqrt());
        y + (self - y * y) / (y * R::new(2.0))
    }
    fn min(self, o: R) -> R {
        if o < self { o } else { self }
    }
}

impl std::ops::Add for R {
    type Output = R;
    fn add(self, o: R) -> R {
        let s = R::two_sum(self.0, o.0);
        R::quick(s.0, s.1 + self.1 + o.1)
    }
}
impl std::ops::Neg for R {
    type Output = R;
    fn neg(self) -> R {
        R(-self.0, -self.1)
    }
}
impl std::ops::Sub for R {
    type Output = R;
    fn sub(self, o: R) -> R {
        self + -o
    }
}
impl std::ops::Mul for R {
    type Output = R;
    fn mul(self, o: R) -> R {
        let p = self.0 * o.0;
        let e = self.0.mul_add(o.0, -p) + (self.0 * o.1 + self.1 * o.0);
        R::quick(p, e)
    }
}
impl std::ops::Div for R {
    type Output = R;
    fn div(self, o: R) -> R {
        let q1 = self.0 / o.0;
        let r = self - o * R::new(q1);
        let q2 = r.0 / o.0;
        let r = r - o * R::new(q2);
        R::quick(q1, q2) + R::new(r.0 / o.0)
    }
}
impl PartialOrd for R {
    fn partial_cmp(&self, o: &R) -> Option<std::cmp::Ordering> {
        (self.0, self.1).partial_cmp(&(o.0, o.1))
    }
}

// ---------------------------------------------------------------------------------------------
// The oracle: affine maps of x̃ and per-lane laws.

/// `A x̃ + B`, a value of the step as an affine function of the step's start `x̃`.
#[derive(Debug, Clone, Copy)]
struct Aff(R, R);

impl Aff {
    const X: Aff = Aff(R(1.0, 0.0), R(0.0, 0.0));
    fn plus(self, c: R, o: Aff) -> Aff {
        Aff(self.0 + c * o.0, self.1 + c * o.1)
    }
}

/// One lane of data `N(μ, v)`.
#[derive(Debug, Clone, Copy)]
struct Lane {
    v: R,
    mu: R,
}

impl Lane {
    /// `D(u, σ) = μ + v/(v + σ²)(u − μ)`.
    fn denoise(&self, u: Aff, sigma: R) -> Aff {
        let g = self.v / (self.v + sigma * sigma);
        Aff(g * u.0, g * u.1 + (R::new(1.0) - g) * self.mu)
    }
    /// k-diffusion's `to_d(u, σ, D(u, σ))`: `(u − D(u, σ))/σ`.
    fn d_of(&self, u: Aff, sigma: R) -> Aff {
        let den = self.denoise(u, sigma);
        Aff((u.0 - den.0) / sigma, (u.1 - den.1) / sigma)
    }
}

/// The law `(m, P)` of `x̃` in one lane.
#[derive(Debug, Clone, Copy)]
struct Law {
    m: R,
    p: R,
}

impl Law {
    fn start(var: f64) -> Law {
        Law { m: R::new(0.0), p: R::new(var) }
    }
    fn map(self, f: Aff) -> Law {
        Law { m: f.0 * self.m + f.1, p: f.0 * f.0 * self.p }
    }
    fn noise(self, c: R) -> Law {
        Law { m: self.m, p: self.p + c * c }
    }
}

/// k-diffusion's `get_ancestral_step(σ_from, σ_to, η)`: `(σ_down, σ_up)`.
fn ancestral(from: R, to: R, eta: R) -> (R, R) {
    if eta == R::new(0.0) {
        return (to, R::new(0.0));
    }
    let up = to.min(eta * (to * to * (from * from - to * to) / (from * from)).sqrt());
    ((to * to - up * up).sqrt(), up)
}

/// The oracle's samplers (the parameters of the struct under test).
#[derive(Debug, Clone, Copy)]
enum Oracle {
    EulerA { eta: f64, s_noise: f64 },
    Heun { s_churn: f64, s_tmin: f64, s_tmax: f64, s_noise: f64 },
    Dpm2,
    Dpm2A { eta: f64, s_noise: f64 },
}

impl Oracle {
    fn builtin(self) -> Builtin {
        match self {
            Oracle::EulerA { eta, s_noise } => EulerAncestral { eta, s_noise }.into(),
            // S_churn = 0: EDM Algorithm 1, the sampler edm-heun.
            Oracle::Heun { s_churn: 0.0, .. } => EdmHeun.into(),
            Oracle::Heun { s_churn, s_tmin, s_tmax, s_noise } => EdmSde { s_churn, s_tmin, s_tmax, s_noise }.into(),
            Oracle::Dpm2 => Dpm2.into(),
            Oracle::Dpm2A { eta, s_noise } => Dpm2Ancestral { eta, s_noise }.into(),
        }
    }

    /// DPM-Solver-2 from `σ` to `to` on `u` with `d = (u − D(u, σ))/σ` (`sample_dpm_2`'s else branch);
    /// its `σ_mid = exp(lerp(log σ, log σ_to, ½))` is `sqrt(σ σ_to)`.
    fn dpm2_core(lane: &Lane, u: Aff, d: Aff, sigma: R, to: R) -> Aff {
        let sigma_mid = (sigma * to).sqrt();
        let x2 = u.plus(sigma_mid - sigma, d);
        let d2 = lane.d_of(x2, sigma_mid);
        u.plus(to - sigma, d2)
    }

    /// Step `i` of `n` from `σ_i = sigma` to `σ_{i+1} = next` on one lane's law.
    fn step(self, lane: &Lane, law: Law, sigma: f64, next: f64, n: usize) -> Law {
        let (u, zero, half) = (Aff::X, R::new(0.0), R::new(0.5));
        let (sigma, next) = (R::new(sigma), R::new(next));
        match self {
            Oracle::EulerA { eta, s_noise } => {
                let d = lane.d_of(u, sigma);
                let (down, up) = ancestral(sigma, next, R::new(eta));
                let law = law.map(u.plus(down - sigma, d));
                if next > zero { law.noise(R::new(s_noise) * up) } else { law }
            }
            Oracle::Heun { s_churn, s_tmin, s_tmax, s_noise } => {
                let inside = s_tmin <= sigma.f() && sigma.f() <= s_tmax;
                let gamma = if inside { (R::new(s_churn) / R::new(n as f64)).min(R::new(2.0).sqrt() - R::new(1.0)) } else { zero };
                let sigma_hat = sigma * (gamma + R::new(1.0));
                let law = if gamma > zero { law.noise(R::new(s_noise) * (sigma_hat * sigma_hat - sigma * sigma).sqrt()) } else { law };
                let d = lane.d_of(u, sigma_hat);
                let dt = next - sigma_hat;
                if next == zero {
                    law.map(u.plus(dt, d))
                } else {
                    let x2 = u.plus(dt, d);
                    let d2 = lane.d_of(x2, next);
                    law.map(u.plus(half * dt, d).plus(half * dt, d2))
                }
            }
            Oracle::Dpm2 => {
                let d = lane.d_of(u, sigma);
                if next == zero { law.map(u.plus(next - sigma, d)) } else { law.map(Self::dpm2_core(lane, u, d, sigma, next)) }
            }
            Oracle::Dpm2A { eta, s_noise } => {
                let d = lane.d_of(u, sigma);
                let (down, up) = ancestral(sigma, next, R::new(eta));
                if down == zero {
                    law.map(u.plus(down - sigma, d))
                } else {
                    law.map(Self::dpm2_core(lane, u, d, sigma, down)).noise(R::new(s_noise) * up)
                }
            }
        }
    }
}

/// A run in σ: the levels `σ_0 > … > σ_S`, the start variance of `x̃_0` and the output scale `a_S`.
struct SigmaRun {
    sigmas: Vec<f64>,
    start: f64,
    a_end: f64,
}

impl SigmaRun {
    /// The oracle's output law of `x = a_S x̃_S`: (means, variances) per lane.
    fn law(&self, o: Oracle) -> (Vec<f64>, Vec<f64>) {
        let n = self.sigmas.len() - 1;
        let a = R::new(self.a_end);
        let (mut m, mut p) = (Vec::new(), Vec::new());
        for (&v, &mu) in LAMBDAS.iter().zip(&MEANS) {
            let lane = Lane { v: R::new(v), mu: R::new(mu) };
            let mut law = Law::start(self.start);
            for w in self.sigmas.windows(2) {
                law = o.step(&lane, law, w[0], w[1], n);
            }
            m.push((a * law.m).f());
            p.push((a * a * law.p).f());
        }
        (m, p)
    }
}

/// VP linear (β from 0.1 to 20, T = 1), `steps` uniform steps to `eps`; start `N(0, 1)`.
fn vp_run(steps: usize, eps: f64) -> (Schedule, SigmaRun) {
    let big_b = |t: f64| 0.1 * t + 9.95 * t * t;
    let times: Vec<f64> = (0..=steps).map(|k| if k == steps { eps } else { 1.0 - (1.0 - eps) * (k as f64 / steps as f64) }).collect();
    let sigmas = times.iter().map(|&t| big_b(t).exp_m1().sqrt()).collect();
    let a0 = (-0.5 * big_b(1.0)).exp();
    let run = SigmaRun { sigmas, start: 1.0 / (a0 * a0), a_end: (-0.5 * big_b(eps)).exp() };
    let p = Process::Vp(VpLinear::default());
    (Schedule::grid(p, TimeGrid::uniform(&p, steps, eps).unwrap()), run)
}

/// EDM (σ_max = 80), the Karras grid of `steps` steps to σ_min = 0.002 (ρ = 7), then a last step to
/// σ = 0 when `final_zero` (EDM's `num_steps = steps + 1`); start `N(0, 80²)`.
fn edm_run(steps: usize, final_zero: bool) -> (Schedule, SigmaRun) {
    let (hi, lo, rho) = (80f64.powf(1.0 / 7.0), 0.002f64.powf(1.0 / 7.0), 7.0);
    let mut sigmas: Vec<f64> = (0..=steps).map(|k| (hi + k as f64 / steps as f64 * (lo - hi)).powf(rho)).collect();
    (sigmas[0], sigmas[steps]) = (80.0, 0.002);
    let edm = Edm::default();
    let mut grid = TimeGrid::karras(&edm, steps, 0.002, 7.0).unwrap();
    if final_zero {
        sigmas.push(0.0);
        grid = grid.with_final_zero();
    }
    (Schedule::grid(Process::Edm(edm), grid), SigmaRun { sigmas, start: 6400.0, a_end: 1.0 })
}

/// Flow matching on `[0, T]`, `T < 1`, `steps` uniform steps to `eps`; start `N(0, 1)`.
fn flow_run(horizon: f64, steps: usize, eps: f64) -> (Schedule, SigmaRun) {
    let times: Vec<f64> =
        (0..=steps).map(|k| if k == steps { eps } else { horizon - (horizon - eps) * (k as f64 / steps as f64) }).collect();
    let sigmas = times.iter().map(|&t| t / (1.0 - t)).collect();
    let a0 = 1.0 - horizon;
    let p = Process::Flow(Flow::new(horizon).unwrap());
    (Schedule::grid(p, TimeGrid::uniform(&p, steps, eps).unwrap()), SigmaRun { sigmas, start: 1.0 / (a0 * a0), a_end: 1.0 - eps })
}

/// The engine's output law from the path's standard start: (means, variances).
fn engine(sampler: &impl LawSampler<Diag>, schedule: &Schedule) -> Result<(Vec<f64>, Vec<f64>), SolverError> {
    let out = output_law(sampler, schedule, &target(), LawStart::<Diag>::Standard, |_, _| Ok(()))?;
    let var = match out.law.cov {
        Op::Full(Diag(v)) => v,
        Op::Scalar(v) => vec![v; LAMBDAS.len()],
    };
    Ok((out.law.mean.unwrap_or(vec![0.0; LAMBDAS.len()]), var))
}

/// The worst relative gap over the lanes (module docs: means relative to `|m| + sqrt(P)`, variances
/// relative to `P`, gaps ≤ 1e-20 counted as 0).
fn gap(got: &(Vec<f64>, Vec<f64>), want: &(Vec<f64>, Vec<f64>)) -> f64 {
    let rel = |g: f64, w: f64, scale: f64| if (g - w).abs() <= 1e-20 { 0.0 } else { (g - w).abs() / scale.max(1e-300) };
    (0..LAMBDAS.len())
        .map(|i| {
            let (gm, gp, wm, wp) = (got.0[i], got.1[i], want.0[i], want.1[i]);
            rel(gm, wm, wm.abs() + wp.sqrt()).max(rel(gp, wp, wp.abs()))
        })
        .fold(0.0, f64::max)
}

fn compare(what: &str, got: &(Vec<f64>, Vec<f64>), want: &(Vec<f64>, Vec<f64>)) -> f64 {
    let g = gap(got, want);
    assert!(g <= 1e-10, "{what}: relative gap {g:e}\n engine {got:?}\n oracle {want:?}");
    g
}

fn configurations() -> Vec<Oracle> {
    let inf = f64::INFINITY;
    vec![
        Oracle::EulerA { eta: 1.0, s_noise: 1.0 },
        Oracle::EulerA { eta: 0.0, s_noise: 1.0 },
        Oracle::EulerA { eta: 0.5, s_noise: 1.3 },
        // η > 1: σ_up is clipped at σ_s on the large steps.
        Oracle::EulerA { eta: 2.5, s_noise: 1.0 },
        Oracle::Heun { s_churn: 0.0, s_tmin: 0.0, s_tmax: inf, s_noise: 1.0 },
        // The default (γ = √2 − 1 below 97 steps), EDM's ImageNet-64 window, an unclipped γ = 0.5/S.
        Oracle::Heun { s_churn: 40.0, s_tmin: 0.0, s_tmax: inf, s_noise: 1.0 },
        Oracle::Heun { s_churn: 40.0, s_tmin: 0.05, s_tmax: 50.0, s_noise: 1.003 },
        Oracle::Heun { s_churn: 0.5, s_tmin: 0.0, s_tmax: inf, s_noise: 1.0 },
        Oracle::Dpm2,
        Oracle::Dpm2A { eta: 1.0, s_noise: 1.0 },
        Oracle::Dpm2A { eta: 0.0, s_noise: 1.0 },
        Oracle::Dpm2A { eta: 0.6, s_noise: 0.9 },
        // η = 3: σ_down = 0 on the large steps, where k-diffusion takes the Euler branch without noise.
        Oracle::Dpm2A { eta: 3.0, s_noise: 1.0 },
    ]
}

#[test]
fn exact_laws_match_the_k_diffusion_recurrences_on_vp_edm_and_flow() {
    let mut runs = Vec::new();
    // No single step from T = 1 to 1e-3 on VP: there the engine's x̂₀ (Tweedie's (x + b² s)/a, the
    // `Algebra` default) carries a rounding of ulp/a_T (a_T = 6.6e-3) where the exact x̂₀ is flat, and
    // the Heun correction's factor σ_t/σ_s = 1.45e4 amplifies it: measured 3.9e-8 (edm-heun, edm-sde)
    // and 6.4e-10 (dpm2, factor sqrt(σ_t/σ_s)) against this oracle. Two steps and more stay below 1e-10.
    for (steps, eps) in [(2usize, 1e-3), (7, 1e-3), (40, 1e-3), (250, 1e-3), (2, 0.0), (3, 0.0), (40, 0.0)] {
        runs.push((format!("vp {steps} steps to {eps}"), vp_run(steps, eps)));
    }
    for (steps, zero) in [(1usize, true), (17, true), (63, true), (5, false), (30, false)] {
        runs.push((format!("edm karras {steps} steps{}", if zero { " + σ = 0" } else { "" }), edm_run(steps, zero)));
    }
    for (steps, eps) in [(3usize, 1e-3), (20, 0.0)] {
        runs.push((format!("flow T = 0.9, {steps} steps to {eps}"), flow_run(0.9, steps, eps)));
    }
    let (mut worst, mut checked, mut failed): (f64, usize, Vec<String>) = (0.0, 0, Vec::new());
    for (label, (sched, sigma_run)) in &runs {
        for o in configurations() {
            let mut o = o;
            // On flow T = 0.9 the path is not defined above σ(T) = 9: keep σ̂ ≤ √2 S_tmax below it.
            if let (Oracle::Heun { s_churn, s_tmax, .. }, true) = (&mut o, label.starts_with("flow"))
                && *s_churn > 0.0
            {
                *s_tmax = 6.0;
            }
            let got = engine(&o.builtin(), sched).unwrap_or_else(|e| panic!("{o:?} on {label}: {e}"));
            let g = gap(&got, &sigma_run.law(o));
            if g > 1e-10 {
                failed.push(format!("{o:?} on {label}: relative gap {g:e}"));
            }
            worst = worst.max(g);
            checked += 1;
        }
    }
    println!("{checked} runs, worst relative gap to the k-diffusion recurrences: {worst:e}");
    assert!(failed.is_empty(), "{} runs off by more than 1e-10:\n{}", failed.len(), failed.join("\n"));
}

#[test]
fn euler_a_runs_from_a_zero_signal_on_flow() {
    // Flow at T = 1: σ_0 = ∞. The first step's limit (σ_s/σ_t → 0): σ_up = min(1, η) σ_s,
    // σ_down = sqrt(σ_s² − σ_up²), D → μ and d = (x̃ − D)/σ_t → x/b_T = x (b_T = 1), so
    // x̃_1 = μ + σ_down x_T + s_noise σ_up ξ. The later steps are the oracle's.
    for (eta, s_noise) in [(1.0, 1.0), (0.0, 1.0), (0.4, 1.2), (2.0, 1.0)] {
        for steps in [1usize, 2, 10, 100] {
            let p = Process::Flow(Flow::default());
            let sched = Schedule::grid(p, TimeGrid::uniform(&p, steps, 0.0).unwrap());
            let times: Vec<f64> = (0..=steps).map(|k| if k == steps { 0.0 } else { 1.0 - k as f64 / steps as f64 }).collect();
            let sigmas: Vec<f64> = times.iter().map(|&t| t / (1.0 - t)).collect();
            let o = Oracle::EulerA { eta, s_noise };
            let (mut m, mut pv) = (Vec::new(), Vec::new());
            for (&v, &mu) in LAMBDAS.iter().zip(&MEANS) {
                let s1 = R::new(sigmas[1]);
                let up = R::new(eta.min(1.0)) * s1;
                let down = (s1 * s1 - up * up).sqrt();
                let noise = if sigmas[1] > 0.0 { R::new(s_noise) * up } else { R::new(0.0) };
                let mut law = Law { m: R::new(mu), p: down * down }.noise(noise);
                for w in sigmas[1..].windows(2) {
                    law = o.step(&Lane { v: R::new(v), mu: R::new(mu) }, law, w[0], w[1], steps);
                }
                m.push(law.m.f());
                pv.push(law.p.f());
            }
            let got = engine(&o.builtin(), &sched).unwrap();
            compare(&format!("euler-a η = {eta} on flow T = 1, {steps} steps"), &got, &(m, pv));
        }
    }
}

#[test]
fn euler_a_is_ddim_for_eta_at_most_one() {
    // Two derivations of one step (k-diffusion's σ_down/σ_up split and DDIM's posterior, Song et al.
    // 2021, eq. 12): equal for η ≤ 1 and s_noise = 1.
    for eta in [0.0, 0.3, 1.0] {
        for sched in [Schedule::uniform_vp(30, 1e-3).unwrap(), edm_run(20, true).0] {
            let a = engine(&EulerAncestral { eta, s_noise: 1.0 }, &sched).unwrap();
            let b = engine(&Ddim { eta }, &sched).unwrap();
            compare(&format!("euler-a vs ddim, η = {eta}"), &a, &b);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Costs.

/// `(score evaluations, noise draws)` of a run, by the sampler's own step code on `Count`.
fn counts(s: &Builtin, sched: &Schedule) -> (usize, usize) {
    let mut c = Count::new();
    run(s, sched, &mut c, |_, _| Ok(())).unwrap();
    (c.scores, c.noises)
}

#[test]
fn score_evaluations_follow_the_papers() {
    // EDM's README (NVlabs/edm): "18 steps (NFE = 35)", "40 steps (NFE = 79)", "256 steps (NFE = 511)":
    // Heun with an Euler last step to σ = 0 makes 2N − 1 evaluations for N = num_steps.
    for n in [18usize, 40, 256] {
        let sched = edm_run(n - 1, true).0;
        assert_eq!(sched.steps(), n);
        for s in [Builtin::from(EdmHeun), EdmSde::default().into(), Dpm2.into(), Dpm2Ancestral::default().into()] {
            assert_eq!(score_evals(&s, &sched).unwrap(), 2 * n - 1, "{} at num_steps {n}", s.name());
        }
        assert_eq!(score_evals(&EulerAncestral::default(), &sched).unwrap(), n);
    }
    // By definition, for S steps ending at σ_S (k-diffusion's loops): second-order samplers 2 per step,
    // one on a step to σ = 0 (or to σ_down = 0); ancestral noise on every step to σ_{i+1} > 0;
    // EDM churn noise on every step with S_tmin ≤ σ_i ≤ S_tmax.
    for (sched, zero) in [(vp_run(12, 1e-3).0, 0), (vp_run(12, 0.0).0, 1), (edm_run(9, false).0, 0), (edm_run(9, true).0, 1)] {
        let s = sched.steps();
        assert_eq!(counts(&EulerAncestral::default().into(), &sched), (s, s - zero));
        assert_eq!(counts(&EulerAncestral { eta: 0.0, s_noise: 1.0 }.into(), &sched), (s, 0));
        assert_eq!(counts(&EulerAncestral { eta: 1.0, s_noise: 0.0 }.into(), &sched), (s, 0));
        assert_eq!(counts(&EdmHeun.into(), &sched), (2 * s - zero, 0));
        assert_eq!(counts(&EdmSde::default().into(), &sched), (2 * s - zero, s));
        assert_eq!(counts(&Dpm2.into(), &sched), (2 * s - zero, 0));
        assert_eq!(counts(&Dpm2Ancestral::default().into(), &sched), (2 * s - zero, s - zero));
        assert_eq!(counts(&Dpm2Ancestral { eta: 0.0, s_noise: 1.0 }.into(), &sched), (2 * s - zero, 0));
    }
    // EDM's ImageNet window [0.05, 50] on the 18-point Karras grid: the levels inside it, counted from
    // eq. 5 here.
    let (sched, run18) = edm_run(17, true);
    let inside = run18.sigmas[..18].iter().filter(|&&s| (0.05..=50.0).contains(&s)).count();
    assert!(inside > 0 && inside < 18, "{inside}");
    let window = EdmSde { s_churn: 40.0, s_tmin: 0.05, s_tmax: 50.0, s_noise: 1.003 };
    assert_eq!(counts(&window.into(), &sched), (35, inside));
    // η = 3 makes σ_down = 0 on large steps: one evaluation there, and no noise (k-diffusion's branch).
    let sched = vp_run(4, 1e-3).0;
    let big = (0..4)
        .filter(|&k| {
            let (t, s) = (sched.point(k).unwrap(), sched.point(k + 1).unwrap());
            let (down, _) = ancestral(R::new(t.sigma()), R::new(s.sigma()), R::new(3.0));
            down == R::new(0.0)
        })
        .count();
    assert!(big > 0);
    assert_eq!(counts(&Dpm2Ancestral { eta: 3.0, s_noise: 1.0 }.into(), &sched), (8 - big, 4 - big));
    // The particle carrier counts the same.
    let data = DenseGaussian::new(vec![0.5, -1.0], faer::mat![[1.0, 0.3], [0.3, 0.5]]).unwrap();
    let out = sample(&EdmHeun, &edm_run(17, true).0, &data, Start::Standard, 8, 1).unwrap();
    assert_eq!(out.score_evals, 35);
}

// ---------------------------------------------------------------------------------------------
// Typed errors.

fn invalid(r: Result<usize, SolverError>, name: &str) {
    assert!(matches!(r, Err(SolverError::InvalidParameter { name: n, .. }) if n == name), "{name}: {r:?}");
}

#[test]
fn bad_parameters_are_typed_errors() {
    let s = Schedule::uniform_vp(10, 1e-3).unwrap();
    for bad in [-0.1, f64::NAN, f64::INFINITY] {
        invalid(score_evals(&EulerAncestral { eta: bad, s_noise: 1.0 }, &s), "eta");
        invalid(score_evals(&EulerAncestral { eta: 1.0, s_noise: bad }, &s), "s_noise");
        invalid(score_evals(&Dpm2Ancestral { eta: bad, s_noise: 1.0 }, &s), "eta");
        invalid(score_evals(&Dpm2Ancestral { eta: 1.0, s_noise: bad }, &s), "s_noise");
        invalid(score_evals(&EdmSde { s_churn: bad, ..EdmSde::default() }, &s), "s_churn");
        invalid(score_evals(&EdmSde { s_tmin: bad, ..EdmSde::default() }, &s), "s_tmin");
        invalid(score_evals(&EdmSde { s_noise: bad, ..EdmSde::default() }, &s), "s_noise");
    }
    invalid(score_evals(&EdmSde { s_tmax: f64::NAN, ..EdmSde::default() }, &s), "s_tmax");
    invalid(score_evals(&EdmSde { s_tmin: 2.0, s_tmax: 1.0, ..EdmSde::default() }, &s), "s_tmax");
    // Accepted edges: η = 0, η > 1, s_noise = 0, S_tmax = ∞, S_tmin = S_tmax.
    assert!(score_evals(&EulerAncestral { eta: 0.0, s_noise: 0.0 }, &s).is_ok());
    assert!(score_evals(&EulerAncestral { eta: 5.0, s_noise: 1.0 }, &s).is_ok());
    assert!(score_evals(&EdmSde { s_tmin: 1.0, s_tmax: 1.0, ..EdmSde::default() }, &s).is_ok());
}

fn unsupported(r: Result<usize, SolverError>, what: &str) {
    assert!(matches!(r, Err(SolverError::Unsupported { .. })), "{what}: {r:?}");
}

#[test]
fn refusals_are_typed() {
    // Flow at T = 1 (σ_T = ∞): only euler-a is written finite there.
    let p = Process::Flow(Flow::default());
    let flow = Schedule::grid(p, TimeGrid::uniform(&p, 10, 1e-3).unwrap());
    assert_eq!(score_evals(&EulerAncestral::default(), &flow).unwrap(), 10);
    for s in [Builtin::from(EdmHeun), EdmSde::default().into(), EdmSde { s_churn: 0.0, ..EdmSde::default() }.into(), Dpm2.into()] {
        unsupported(score_evals(&s, &flow), s.name());
    }
    unsupported(score_evals(&Dpm2Ancestral::default(), &flow), "dpm2-a");
    let err = output_law(&EdmHeun, &flow, &target(), LawStart::<Diag>::Standard, |_, _| Ok(())).unwrap_err();
    assert!(err.to_string().contains("a_T = 0"), "{err}");
    // A discrete chain: the grid-point samplers run, the ones with off-grid stages refuse.
    let chain = Schedule::Chain(DiscreteChain::ho_linear(100, 1e-4, 0.02).unwrap());
    assert_eq!(score_evals(&EulerAncestral::default(), &chain).unwrap(), 100);
    assert_eq!(score_evals(&EdmHeun, &chain).unwrap(), 199);
    assert_eq!(score_evals(&EdmSde { s_churn: 0.0, ..EdmSde::default() }, &chain).unwrap(), 199);
    unsupported(score_evals(&EdmSde::default(), &chain), "edm-sde with churn on a chain");
    unsupported(score_evals(&Dpm2, &chain), "dpm2 on a chain");
    unsupported(score_evals(&Dpm2Ancestral::default(), &chain), "dpm2-a on a chain");
    // VP-cosine is not defined above its horizon (σ(T) at t_max): churn there is refused before the
    // run, and runs when S_tmax keeps σ̂ = σ (1 + γ) ≤ √2 S_tmax < σ(T). VE continues past T
    // (geometric σ), so churn above σ_max runs there.
    let p = Process::VpCosine(VpCosine::default());
    let cos = Schedule::grid(p, TimeGrid::uniform(&p, 20, 1e-3).unwrap());
    let err = score_evals(&EdmSde::default(), &cos).unwrap_err();
    assert!(matches!(err, SolverError::Unsupported { .. }) && err.to_string().contains("σ(T)"), "{err}");
    let s_tmax = 0.5 * p.sigma_at(p.horizon());
    assert_eq!(score_evals(&EdmSde { s_tmax, ..EdmSde::default() }, &cos).unwrap(), 40);
    let p = Process::Ve(Ve::default());
    let ve = Schedule::grid(p, TimeGrid::uniform(&p, 20, 1e-3).unwrap());
    assert_eq!(score_evals(&EdmSde::default(), &ve).unwrap(), 40);
}

// ---------------------------------------------------------------------------------------------
// Orders of convergence (issue 13).

/// The CIFAR-10 covariance spectrum (`data/cifar10_cov_eigenvalues.npy`: a 1-D little-endian `<f4`
/// array whose 9 exact zeros are stored as `−0.0`, read as 0; `data/README.md`).
fn cifar10_spectrum() -> Vec<f64> {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/cifar10_cov_eigenvalues.npy")).unwrap();
    assert!(bytes.starts_with(b"\x93NUMPY\x01"), "a version-1 .npy file");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + len]).unwrap();
    assert!(header.contains("'<f4'") && header.contains("(3072,)"), "{header}");
    bytes[10 + len..].chunks_exact(4).map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])).abs()).collect()
}

#[test]
fn orders_on_the_cifar10_spectrum_with_the_karras_grid() {
    // EDM path, Karras grid (ρ = 7) from σ_max = 80 to σ_min = 0.002, started from the exact p_T, so
    // the error is discretisation only. W2 to p_{σ_min} = N(0, Σ + σ_min² I), in closed form for
    // commuting covariances: W2² = Σ_i (sqrt(v_i) − sqrt(λ_i + σ_min²))². The order is the
    // least-squares slope of −log W2 on log NFE over S = 256, 512, 1024 steps (EDM-SDE's churn
    // γ = min(40/S, √2 − 1) is clipped below S = 97, where its slope is 1.2–1.7). Expected: Euler
    // ancestral 1 (Euler–Maruyama-like), Heun and DPM2 2 (their papers); DPM2 ancestral and EDM's
    // stochastic sampler measured 2.00 and 1.98 (the churn is exact in law, the step is Heun).
    let spectrum = cifar10_spectrum();
    let target = SpectralGaussian::centred(spectrum.clone()).unwrap();
    let edm = Edm::default();
    for (sampler, order) in [
        (Builtin::from(EulerAncestral::default()), 1.0),
        (EdmHeun.into(), 2.0),
        (EdmSde::default().into(), 2.0),
        (Dpm2.into(), 2.0),
        (Dpm2Ancestral::default().into(), 2.0),
    ] {
        let mut pts = Vec::new();
        for steps in [256usize, 512, 1024] {
            let sched = Schedule::grid(Process::Edm(edm), TimeGrid::karras(&edm, steps, 0.002, 7.0).unwrap());
            let out = output_law(&sampler, &sched, &target, LawStart::<Diag>::Exact, |_, _| Ok(())).unwrap();
            let Op::Full(Diag(v)) = out.law.cov else { panic!("a diagonal law") };
            let w2 = v.iter().zip(&spectrum).map(|(v, l)| (v.sqrt() - (l + 0.002f64 * 0.002).sqrt()).powi(2)).sum::<f64>().sqrt();
            pts.push(((out.score_evals as f64).ln(), w2.ln()));
        }
        let (mx, my) = (pts.iter().map(|p| p.0).sum::<f64>() / 3.0, pts.iter().map(|p| p.1).sum::<f64>() / 3.0);
        let slope = -pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / pts.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
        println!("{}: order {slope:.3} (expected {order})", sampler.name());
        assert!((slope - order).abs() <= 0.2, "{}: fitted order {slope} vs {order}", sampler.name());
    }
}
