//! The DPM-Solver++ family of issue 13 (`dpmpp2s-a`, `dpmpp-sde`, `dpmpp3m`, `dpmpp2m` with
//! `lower_order_final`, `dpmpp2m-sde`, `dpmpp3m-sde`) against independent references.
//!
//! **The references.** On 1-D Gaussian data `N(μ, v)` (one lane per coordinate) the denoiser in
//! k-diffusion's variables is linear, `D(x̃, σ) = μ + v/(v + σ²) (x̃ − μ)` (Gaussian conditioning of
//! `x̃ = x₀ + σ z`), so every sampler's output is an affine function of the start and of the fresh
//! noises. Each reference below transcribes the anchor's own loop, line by line, in the anchor's own
//! variables (k-diffusion's `x̃`, `σ`, `t = −log σ`, `sigma_fn`, `get_ancestral_step`; diffusers'
//! VP-normalised `α_t = 1/sqrt(1 + σ²)`, `σ_t = σ/sqrt(1 + σ²)` and its `lower_order_nums`
//! bookkeeping), on a scalar random variable represented as `c + Σ_j g_j ζ_j` over independent
//! standard normals `ζ_j` (mean `c`, variance `Σ g_j²`): no collapse to a law between steps, no
//! shared code with the step files. The noise of `dpmpp-sde`, `dpmpp2m-sde` and `dpmpp3m-sde` comes
//! from a transcription of k-diffusion's `BrownianTreeNoiseSampler` (identity transform: a Brownian
//! motion `W` in `σ` on `[σ_min, σ_max]`, sampled at each queried `σ` by the Brownian bridge between
//! its neighbours; `noise_sampler(σ_a, σ_b) = sign · (W(hi) − W(lo))/sqrt(|σ_b − σ_a|)` as
//! `BatchedBrownianTree.__call__` computes it), so the correlation of the two overlapping increments
//! of a `dpmpp-sde` step is *derived* here by the bridge, not assumed. `dpmpp2s-a` uses k-diffusion's
//! `default_noise_sampler` (fresh normals). The paths' `σ(t)` and `a(t)` are written out here
//! (VP: `B(t) = 0.1 t + 9.95 t²`, `a = e^{−B/2}`, `σ = sqrt(e^B − 1)`; EDM: `a = 1`, `σ = t`; flow:
//! `a = 1 − t`, `σ = t/(1 − t)`; a DDPM chain: `a = sqrt(ᾱ)`, `σ = sqrt((1 − ᾱ)/ᾱ)`), and the output is
//! mapped back to the carrier as `x = a_S x̃_S`. The exact-law engine (`output_law`, the sampler's
//! own step on Gaussian laws) must agree to 1e-10 relative on means and variances.
//!
//! The anchors: crowsonkb/k-diffusion `k_diffusion/sampling.py` (commit 4601bf0:
//! `sample_dpmpp_2s_ancestral`, `sample_dpmpp_sde`, `sample_dpmpp_2m_sde`, `sample_dpmpp_3m_sde`,
//! `get_ancestral_step`, `BrownianTreeNoiseSampler`), huggingface/diffusers
//! `schedulers/scheduling_dpmsolver_multistep.py` (`step`, `dpm_solver_first_order_update`,
//! `multistep_dpm_solver_second_order_update` with `solver_type = "midpoint"`,
//! `multistep_dpm_solver_third_order_update`, `algorithm_type = "dpmsolver++"`), with gmdiff's
//! `lower_order_final` = diffusers' `lower_order_final and len(timesteps) < 15`.

use gmdiff_process::{DiscreteChain, Edm, Flow, Process, TimeGrid, VpLinear};
use gmdiff_solvers::{
    Builtin, Diag, DpmSolver2M, DpmSolver2MSde, DpmSolver2SAncestral, DpmSolver3M, DpmSolver3MSde, DpmSolverSde, DpmSolverType, LawSampler,
    LawStart, Marginal, Op, Sampler, Schedule, SolverError, SpectralGaussian, output_law, score_evals, slots,
};
use proptest::prelude::*;

const LAMBDAS: [f64; 4] = [0.0, 0.04, 1.0, 6.0];
const MEANS: [f64; 4] = [0.3, -1.5, 0.0, 2.0];

// ---------------------------------------------------------------------------------------------
// A scalar Gaussian random variable c + Σ_j g_j ζ_j, and fresh ζ's.

#[derive(Clone, Debug)]
struct Rv {
    c: f64,
    g: Vec<f64>,
}

impl Rv {
    fn constant(c: f64) -> Self {
        Rv { c, g: Vec::new() }
    }
    fn mean(&self) -> f64 {
        self.c
    }
    fn var(&self) -> f64 {
        self.g.iter().map(|g| g * g).sum()
    }
}

/// `Σ_i c_i v_i`.
fn lin(terms: &[(f64, &Rv)]) -> Rv {
    let n = terms.iter().map(|(_, v)| v.g.len()).max().unwrap_or(0);
    let mut out = Rv { c: 0.0, g: vec![0.0; n] };
    for (c, v) in terms {
        out.c += c * v.c;
        for (o, g) in out.g.iter_mut().zip(&v.g) {
            *o += c * g;
        }
    }
    out
}

/// The source of fresh independent standard normals.
#[derive(Default)]
struct Normals {
    n: usize,
}

impl Normals {
    fn fresh(&mut self) -> Rv {
        let mut g = vec![0.0; self.n + 1];
        g[self.n] = 1.0;
        self.n += 1;
        Rv { c: 0.0, g }
    }
}

/// The Gaussian denoiser of one lane: `D(x̃, σ) = μ + v/(v + σ²)(x̃ − μ)`.
#[derive(Clone, Copy)]
struct Lane {
    v: f64,
    mu: f64,
}

impl Lane {
    fn model(&self, x: &Rv, sigma: f64) -> Rv {
        let k = self.v / (self.v + sigma * sigma);
        let mut out = lin(&[(k, x)]);
        out.c += (1.0 - k) * self.mu;
        out
    }
}

/// k-diffusion's `BrownianTreeNoiseSampler` with the identity transform, transcribed: one Brownian
/// motion `W` in `σ`, pinned at `W(σ_min) = 0`, with `W(σ_max) − W(σ_min) ~ N(0, σ_max − σ_min)`, and
/// every further queried point drawn from the Brownian bridge between its neighbours (or as a
/// Brownian increment beyond the ends, which k-diffusion's rounding `exp(−(−log σ))` can reach by an ulp).
struct BrownianTree {
    points: Vec<(f64, Rv)>,
}

impl BrownianTree {
    fn new(lo: f64, hi: f64, z: &mut Normals) -> Self {
        let top = lin(&[((hi - lo).sqrt(), &z.fresh())]);
        BrownianTree { points: vec![(lo, Rv::constant(0.0)), (hi, top)] }
    }
    fn w(&mut self, s: f64, z: &mut Normals) -> Rv {
        if let Some((_, w)) = self.points.iter().find(|(p, _)| *p == s) {
            return w.clone();
        }
        let i = self.points.partition_point(|(p, _)| *p < s);
        let w = if i == 0 {
            let (p, w0) = &self.points[0];
            lin(&[(1.0, w0), ((p - s).sqrt(), &z.fresh())])
        } else if i == self.points.len() {
            let (p, w1) = &self.points[i - 1];
            lin(&[(1.0, w1), ((s - p).sqrt(), &z.fresh())])
        } else {
            let ((p0, w0), (p1, w1)) = (&self.points[i - 1], &self.points[i]);
            let f = (s - p0) / (p1 - p0);
            let sd = ((s - p0) * (p1 - s) / (p1 - p0)).sqrt();
            lin(&[(1.0 - f, w0), (f, w1), (sd, &z.fresh())])
        };
        self.points.insert(i, (s, w.clone()));
        w
    }
    /// `noise_sampler(σ, σ_next)`: `BatchedBrownianTree.__call__(t0, t1)` sorts the pair, returns
    /// `(W(hi) − W(lo)) · sign` (sign −1 when `t0 > t1`), divided by `|t1 − t0|^{1/2}`.
    fn sample(&mut self, t0: f64, t1: f64, z: &mut Normals) -> Rv {
        let (lo, hi, sign) = if t0 < t1 { (t0, t1, 1.0) } else { (t1, t0, -1.0) };
        let (wl, wh) = (self.w(lo, z), self.w(hi, z));
        lin(&[(sign / (t1 - t0).abs().sqrt(), &wh), (-sign / (t1 - t0).abs().sqrt(), &wl)])
    }
}

// ---------------------------------------------------------------------------------------------
// The anchors' loops, transcribed in their own variables. `sigmas` is k-diffusion's list (σ_0 > … ≥ 0).

/// `get_ancestral_step(σ_from, σ_to, η)`. k-diffusion's `σ_down = (σ_to² − σ_up²)^{1/2}` cancels when
/// `σ_to ≪ σ_from` (2e-9 relative on a one-step VP run); below the clip `σ_up < σ_to` it is written
/// here as the identical `σ_to ((1 − η²) + η² σ_to²/σ_from²)^{1/2}`.
fn get_ancestral_step(sf: f64, st: f64, eta: f64) -> (f64, f64) {
    if eta == 0.0 {
        return (st, 0.0);
    }
    let su = st.min(eta * (st * st * (sf * sf - st * st) / (sf * sf)).sqrt());
    if su == st {
        return ((st * st - su * su).sqrt(), su);
    }
    (st * ((1.0 - eta * eta) + eta * eta * (st * st) / (sf * sf)).max(0.0).sqrt(), su)
}

fn sigma_fn(t: f64) -> f64 {
    (-t).exp()
}
fn t_fn(sigma: f64) -> f64 {
    -sigma.ln()
}

/// `sample_dpmpp_2s_ancestral` with `default_noise_sampler`.
fn ref_2s_ancestral(lane: Lane, sigmas: &[f64], x0: Rv, z: &mut Normals, eta: f64, s_noise: f64) -> Rv {
    let mut x = x0;
    for i in 0..sigmas.len() - 1 {
        let denoised = lane.model(&x, sigmas[i]);
        let (sigma_down, sigma_up) = get_ancestral_step(sigmas[i], sigmas[i + 1], eta);
        if sigma_down == 0.0 {
            let d = lin(&[(1.0 / sigmas[i], &x), (-1.0 / sigmas[i], &denoised)]);
            x = lin(&[(1.0, &x), (sigma_down - sigmas[i], &d)]);
        } else {
            let (t, t_next) = (t_fn(sigmas[i]), t_fn(sigma_down));
            let r = 0.5;
            let h = t_next - t;
            let s = t + r * h;
            let x_2 = lin(&[(sigma_fn(s) / sigma_fn(t), &x), (-(-h * r).exp_m1(), &denoised)]);
            let denoised_2 = lane.model(&x_2, sigma_fn(s));
            x = lin(&[(sigma_fn(t_next) / sigma_fn(t), &x), (-(-h).exp_m1(), &denoised_2)]);
        }
        if sigmas[i + 1] > 0.0 {
            x = lin(&[(1.0, &x), (s_noise * sigma_up, &z.fresh())]);
        }
    }
    x
}

/// The Brownian tree of k-diffusion's SDE samplers: `[min positive σ, max σ]`.
fn tree_for(sigmas: &[f64], z: &mut Normals) -> BrownianTree {
    let lo = sigmas.iter().copied().filter(|&s| s > 0.0).fold(f64::INFINITY, f64::min);
    let hi = sigmas.iter().copied().fold(0.0, f64::max);
    BrownianTree::new(lo, hi, z)
}

/// `sample_dpmpp_sde` with its default `BrownianTreeNoiseSampler`.
fn ref_sde(lane: Lane, sigmas: &[f64], x0: Rv, z: &mut Normals, eta: f64, s_noise: f64, r: f64) -> Rv {
    let mut tree = tree_for(sigmas, z);
    let mut x = x0;
    for i in 0..sigmas.len() - 1 {
        let denoised = lane.model(&x, sigmas[i]);
        if sigmas[i + 1] == 0.0 {
            let d = lin(&[(1.0 / sigmas[i], &x), (-1.0 / sigmas[i], &denoised)]);
            x = lin(&[(1.0, &x), (sigmas[i + 1] - sigmas[i], &d)]);
        } else {
            let (t, t_next) = (t_fn(sigmas[i]), t_fn(sigmas[i + 1]));
            let h = t_next - t;
            let s = t + h * r;
            let fac = 1.0 / (2.0 * r);
            // Step 1
            let (sd, su) = get_ancestral_step(sigma_fn(t), sigma_fn(s), eta);
            let s_ = t_fn(sd);
            let mut x_2 = lin(&[(sigma_fn(s_) / sigma_fn(t), &x), (-(t - s_).exp_m1(), &denoised)]);
            let n = tree.sample(sigma_fn(t), sigma_fn(s), z);
            x_2 = lin(&[(1.0, &x_2), (s_noise * su, &n)]);
            let denoised_2 = lane.model(&x_2, sigma_fn(s));
            // Step 2
            let (sd, su) = get_ancestral_step(sigma_fn(t), sigma_fn(t_next), eta);
            let t_next_ = t_fn(sd);
            let denoised_d = lin(&[(1.0 - fac, &denoised), (fac, &denoised_2)]);
            x = lin(&[(sigma_fn(t_next_) / sigma_fn(t), &x), (-(t - t_next_).exp_m1(), &denoised_d)]);
            let n = tree.sample(sigma_fn(t), sigma_fn(t_next), z);
            x = lin(&[(1.0, &x), (s_noise * su, &n)]);
        }
    }
    x
}

/// `sample_dpmpp_2m_sde` with its default `BrownianTreeNoiseSampler`.
fn ref_2m_sde(lane: Lane, sigmas: &[f64], x0: Rv, z: &mut Normals, eta: f64, s_noise: f64, heun: bool) -> Rv {
    let mut tree = tree_for(sigmas, z);
    let mut x = x0;
    let (mut old_denoised, mut h_last): (Option<Rv>, f64) = (None, f64::NAN);
    for i in 0..sigmas.len() - 1 {
        let denoised = lane.model(&x, sigmas[i]);
        let mut h = h_last;
        if sigmas[i + 1] == 0.0 {
            x = denoised.clone();
        } else {
            let (t, s) = (-sigmas[i].ln(), -sigmas[i + 1].ln());
            h = s - t;
            let eta_h = eta * h;
            x = lin(&[(sigmas[i + 1] / sigmas[i] * (-eta_h).exp(), &x), (-(-h - eta_h).exp_m1(), &denoised)]);
            if let Some(old) = &old_denoised {
                let r = h_last / h;
                let diff = lin(&[(1.0, &denoised), (-1.0, old)]);
                let c = if heun { -(-h - eta_h).exp_m1() / (-h - eta_h) + 1.0 } else { 0.5 * -(-h - eta_h).exp_m1() };
                x = lin(&[(1.0, &x), (c * (1.0 / r), &diff)]);
            }
            if eta != 0.0 {
                let n = tree.sample(sigmas[i], sigmas[i + 1], z);
                x = lin(&[(1.0, &x), (sigmas[i + 1] * (-(-2.0 * eta_h).exp_m1()).sqrt() * s_noise, &n)]);
            }
        }
        old_denoised = Some(denoised);
        h_last = h;
    }
    x
}

/// `sample_dpmpp_3m_sde` with its default `BrownianTreeNoiseSampler`.
fn ref_3m_sde(lane: Lane, sigmas: &[f64], x0: Rv, z: &mut Normals, eta: f64, s_noise: f64) -> Rv {
    let mut tree = tree_for(sigmas, z);
    let mut x = x0;
    let (mut denoised_1, mut denoised_2): (Option<Rv>, Option<Rv>) = (None, None);
    let (mut h_1, mut h_2): (Option<f64>, Option<f64>) = (None, None);
    let mut h = f64::NAN;
    for i in 0..sigmas.len() - 1 {
        let denoised = lane.model(&x, sigmas[i]);
        if sigmas[i + 1] == 0.0 {
            x = denoised.clone();
        } else {
            let (t, s) = (-sigmas[i].ln(), -sigmas[i + 1].ln());
            h = s - t;
            let h_eta = h * (eta + 1.0);
            x = lin(&[((-h_eta).exp(), &x), (-(-h_eta).exp_m1(), &denoised)]);
            if let (Some(h2), Some(h1)) = (h_2, h_1) {
                let (d1, d2) = (denoised_1.as_ref().unwrap(), denoised_2.as_ref().unwrap());
                let (r0, r1) = (h1 / h, h2 / h);
                let d1_0 = lin(&[(1.0 / r0, &denoised), (-1.0 / r0, d1)]);
                let d1_1 = lin(&[(1.0 / r1, d1), (-1.0 / r1, d2)]);
                let dd = lin(&[(1.0, &d1_0), (-1.0, &d1_1)]);
                let d_1 = lin(&[(1.0, &d1_0), (r0 / (r0 + r1), &dd)]);
                let d_2 = lin(&[(1.0 / (r0 + r1), &dd)]);
                let phi_2 = (-h_eta).exp_m1() / h_eta + 1.0;
                let phi_3 = phi_2 / h_eta - 0.5;
                x = lin(&[(1.0, &x), (phi_2, &d_1), (-phi_3, &d_2)]);
            } else if let Some(h1) = h_1 {
                let r = h1 / h;
                let d = lin(&[(1.0 / r, &denoised), (-1.0 / r, denoised_1.as_ref().unwrap())]);
                let phi_2 = (-h_eta).exp_m1() / h_eta + 1.0;
                x = lin(&[(1.0, &x), (phi_2, &d)]);
            }
            if eta != 0.0 {
                let n = tree.sample(sigmas[i], sigmas[i + 1], z);
                x = lin(&[(1.0, &x), (sigmas[i + 1] * (-(-2.0 * h * eta).exp_m1()).sqrt() * s_noise, &n)]);
            }
        }
        denoised_2 = denoised_1.take();
        denoised_1 = Some(denoised);
        h_2 = h_1;
        h_1 = Some(h);
    }
    x
}

/// diffusers' `DPMSolverMultistepScheduler.step` loop (`algorithm_type = "dpmsolver++"`,
/// `solver_type = "midpoint"`), on the VP-normalised sample `α_t x̃`; gmdiff's `lower_order_final`
/// stands for diffusers' `lower_order_final and len(timesteps) < 15`, and a final `σ = 0` for its
/// `final_sigmas_type = "zero"`. Returns `x̃` at the last σ.
fn ref_diffusers(lane: Lane, sigmas: &[f64], x0: Rv, solver_order: usize, lower_order_final: bool) -> Rv {
    ref_diffusers_d2(lane, sigmas, x0, solver_order, lower_order_final, 1.0)
}

/// [`ref_diffusers`] with diffusers' `D2` multiplied by `d2_factor` (1 is diffusers).
fn ref_diffusers_d2(lane: Lane, sigmas: &[f64], x0: Rv, solver_order: usize, lower_order_final: bool, d2_factor: f64) -> Rv {
    let alpha_sigma = |s: f64| (1.0 / (s * s + 1.0).sqrt(), s / (s * s + 1.0).sqrt());
    let lambda = |s: f64| {
        let (a, sg) = alpha_sigma(s);
        a.ln() - sg.ln()
    };
    let n = sigmas.len() - 1;
    let final_zero = sigmas[n] == 0.0;
    let mut sample = lin(&[(alpha_sigma(sigmas[0]).0, &x0)]);
    let mut outputs: Vec<Rv> = Vec::new();
    let mut lower_order_nums = 0;
    for i in 0..n {
        // diffusers: `lower_order_final and len(timesteps) < 15`.
        let lof = lower_order_final && n < 15;
        let lower_order_final_now = i == n - 1 && (lof || final_zero);
        let lower_order_second = i + 2 == n && lof;
        // convert_model_output for dpmsolver++: x0_pred from the model at the sample's σ.
        let (a_s0, _) = alpha_sigma(sigmas[i]);
        let m0 = lane.model(&lin(&[(1.0 / a_s0, &sample)]), sigmas[i]);
        outputs.push(m0.clone());
        let (alpha_t, sigma_t) = alpha_sigma(sigmas[i + 1]);
        let (_, sigma_s0) = alpha_sigma(sigmas[i]);
        let (lambda_t, lambda_s0) = (lambda(sigmas[i + 1]), lambda(sigmas[i]));
        let h = lambda_t - lambda_s0;
        sample = if solver_order == 1 || lower_order_nums < 1 || lower_order_final_now {
            lin(&[(sigma_t / sigma_s0, &sample), (-(alpha_t * ((-h).exp() - 1.0)), &m0)])
        } else if solver_order == 2 || lower_order_nums < 2 || lower_order_second {
            let m1 = &outputs[outputs.len() - 2];
            let h_0 = lambda_s0 - lambda(sigmas[i - 1]);
            let r0 = h_0 / h;
            let d1 = lin(&[(1.0 / r0, &m0), (-1.0 / r0, m1)]);
            lin(&[(sigma_t / sigma_s0, &sample), (-(alpha_t * ((-h).exp() - 1.0)), &m0), (-0.5 * (alpha_t * ((-h).exp() - 1.0)), &d1)])
        } else {
            let (m1, m2) = (&outputs[outputs.len() - 2], &outputs[outputs.len() - 3]);
            let lambda_s1 = lambda(sigmas[i - 1]);
            let (h_0, h_1) = (lambda_s0 - lambda_s1, lambda_s1 - lambda(sigmas[i - 2]));
            let (r0, r1) = (h_0 / h, h_1 / h);
            let d1_0 = lin(&[(1.0 / r0, &m0), (-1.0 / r0, m1)]);
            let d1_1 = lin(&[(1.0 / r1, m1), (-1.0 / r1, m2)]);
            let dd = lin(&[(1.0, &d1_0), (-1.0, &d1_1)]);
            let d1 = lin(&[(1.0, &d1_0), (r0 / (r0 + r1), &dd)]);
            let d2 = lin(&[(d2_factor / (r0 + r1), &dd)]);
            lin(&[
                (sigma_t / sigma_s0, &sample),
                (-(alpha_t * ((-h).exp() - 1.0)), &m0),
                (alpha_t * (((-h).exp() - 1.0) / h + 1.0), &d1),
                (-(alpha_t * (((-h).exp() - 1.0 + h) / (h * h) - 0.5)), &d2),
            ])
        };
        if lower_order_nums < solver_order {
            lower_order_nums += 1;
        }
    }
    lin(&[(1.0 / alpha_sigma(sigmas[n]).0, &sample)])
}

// ---------------------------------------------------------------------------------------------
// Paths and the comparison.

/// A test path: the schedule for the engine, and `(σ_k, a_0, a_S, start std)` written out here.
struct Case {
    name: String,
    schedule: Schedule,
    sigmas: Vec<f64>,
    a_first: f64,
    a_last: f64,
    start_std: f64,
}

fn vp_case(steps: usize) -> Case {
    let p = Process::Vp(VpLinear::default());
    let grid = TimeGrid::uniform(&p, steps, 1e-3).unwrap();
    let big_b = |t: f64| 0.1 * t + 9.95 * t * t;
    let sigmas = grid.times().iter().map(|&t| big_b(t).exp_m1().sqrt()).collect();
    let (t0, ts) = (grid.times()[0], grid.times()[steps]);
    Case {
        name: format!("VP uniform, {steps} steps"),
        sigmas,
        a_first: (-0.5 * big_b(t0)).exp(),
        a_last: (-0.5 * big_b(ts)).exp(),
        start_std: 1.0,
        schedule: Schedule::grid(p, grid),
    }
}

fn edm_case(steps: usize, final_zero: bool) -> Case {
    let p = Process::Edm(Edm::default());
    let mut grid = TimeGrid::karras(&p, steps, 0.002, 7.0).unwrap();
    if final_zero {
        grid = grid.with_final_zero();
    }
    Case {
        name: format!("EDM Karras, {} steps{}", grid.steps(), if final_zero { " (last to σ = 0)" } else { "" }),
        sigmas: grid.times().to_vec(),
        a_first: 1.0,
        a_last: 1.0,
        start_std: 80.0,
        schedule: Schedule::grid(p, grid),
    }
}

fn flow_case(steps: usize, horizon: f64) -> Case {
    let p = Process::Flow(Flow::new(horizon).unwrap());
    let grid = TimeGrid::uniform(&p, steps, 1e-3).unwrap();
    let times = grid.times().to_vec();
    Case {
        name: format!("flow T = {horizon}, {steps} steps"),
        sigmas: times.iter().map(|&t| t / (1.0 - t)).collect(),
        a_first: 1.0 - times[0],
        a_last: 1.0 - times[steps],
        start_std: 1.0,
        schedule: Schedule::grid(p, grid),
    }
}

fn chain_case(steps: usize) -> Case {
    let chain = DiscreteChain::ho_linear(steps, 1e-4, 0.02).unwrap();
    // Grid point k is the chain's step N − k.
    let sigmas = (0..=steps)
        .map(|k| {
            let ab = chain.alpha_bar(steps - k);
            ((1.0 - ab) / ab).sqrt()
        })
        .collect();
    Case {
        name: format!("DDPM chain, {steps} steps"),
        sigmas,
        a_first: chain.alpha_bar(steps).sqrt(),
        a_last: 1.0,
        start_std: 1.0,
        schedule: Schedule::Chain(chain),
    }
}

fn standard_cases() -> Vec<Case> {
    let mut v: Vec<Case> = [1usize, 2, 3, 7, 40].into_iter().map(vp_case).collect();
    v.extend([2usize, 5, 18, 40].into_iter().map(|s| edm_case(s, false)));
    v.extend([2usize, 6, 17].into_iter().map(|s| edm_case(s, true)));
    v.extend([3usize, 25].into_iter().map(|s| flow_case(s, 0.9)));
    v
}

/// The engine's output (means, variances) from `N(0, s² I)`.
fn engine(sampler: &impl LawSampler<Diag>, schedule: &Schedule, s: f64) -> (Vec<f64>, Vec<f64>) {
    let target = SpectralGaussian::new(LAMBDAS.to_vec(), Some(MEANS.to_vec())).unwrap();
    let start = LawStart::Law(Marginal { mean: None, cov: Op::Scalar(s * s) });
    let out = output_law(sampler, schedule, &target, start, |_, _| Ok(())).unwrap();
    let var = match out.law.cov {
        Op::Full(Diag(v)) => v,
        Op::Scalar(v) => vec![v; LAMBDAS.len()],
    };
    (out.law.mean.unwrap_or(vec![0.0; LAMBDAS.len()]), var)
}

/// The reference's output law per lane: `x = a_S x̃_S`, `x̃_0 = x_0/a_0`, `x_0 ~ N(0, s²)`.
/// A transcribed anchor loop: `(lane, σ's, x̃_0, normals) → x̃_S`.
type Reference<'a> = &'a dyn Fn(Lane, &[f64], Rv, &mut Normals) -> Rv;

fn reference(case: &Case, run: Reference) -> (Vec<f64>, Vec<f64>) {
    let (mut m, mut v) = (Vec::new(), Vec::new());
    for (&lam, &mu) in LAMBDAS.iter().zip(&MEANS) {
        let mut z = Normals::default();
        let x0 = lin(&[(case.start_std / case.a_first, &z.fresh())]);
        let x = run(Lane { v: lam, mu }, &case.sigmas, x0, &mut z);
        let x = lin(&[(case.a_last, &x)]);
        m.push(x.mean());
        v.push(x.var());
    }
    (m, v)
}

/// Means to 1e-10 (relative, absolute below 1), variances to 1e-10 relative. A variance that is
/// exactly 0 (the `λ = 0` lane landing on `μ` at `σ = 0`) comes out of either side as a rounding
/// residue such as `(1 − σ·(1/σ))² s²`; variances below `1e-24` (relative to starts of variance ≥ 1)
/// count as 0.
fn compare(what: &str, got: (Vec<f64>, Vec<f64>), want: (Vec<f64>, Vec<f64>)) -> f64 {
    let mut worst: f64 = 0.0;
    for i in 0..LAMBDAS.len() {
        let em = (got.0[i] - want.0[i]).abs() / want.0[i].abs().max(1.0);
        let ev = (got.1[i] - want.1[i]).abs() / want.1[i].abs().max(1e-24);
        assert!(em <= 1e-10, "{what}, lane {i}: mean {} vs reference {} ({em:e})", got.0[i], want.0[i]);
        assert!(ev <= 1e-10, "{what}, lane {i}: variance {} vs reference {} ({ev:e})", got.1[i], want.1[i]);
        worst = worst.max(em).max(ev);
    }
    worst
}

fn check_all(label: &str, cases: &[Case], sampler: &impl LawSampler<Diag>, run: Reference) {
    let mut worst: f64 = 0.0;
    for case in cases {
        let got = engine(sampler, &case.schedule, case.start_std);
        worst = worst.max(compare(&format!("{label} on {}", case.name), got, reference(case, run)));
    }
    println!("{label}: worst relative gap {worst:.2e} over {} schedules", cases.len());
}

// ---------------------------------------------------------------------------------------------
// 1. Exact laws against the transcribed anchors.

#[test]
fn dpmpp2s_ancestral_matches_k_diffusion() {
    let cases = standard_cases();
    // η = 1.7 makes σ_up = σ_s on the larger steps: Euler steps inside the run.
    for (eta, s_noise) in [(1.0, 1.0), (0.5, 0.7), (0.0, 1.0), (1.7, 1.0)] {
        let s = DpmSolver2SAncestral { eta, s_noise };
        check_all(&format!("dpmpp2s-a(η = {eta}, s_noise = {s_noise})"), &cases, &s, &|l, sg, x, z| {
            ref_2s_ancestral(l, sg, x, z, eta, s_noise)
        });
    }
}

#[test]
fn dpmpp_sde_matches_k_diffusion_with_its_brownian_tree() {
    let cases = standard_cases();
    for (eta, s_noise, r) in [(1.0, 1.0, 0.5), (0.6, 1.3, 0.5), (1.0, 1.0, 0.3), (1.0, 1.0, 1.0), (0.0, 1.0, 0.5), (2.5, 1.0, 0.5)] {
        let s = DpmSolverSde { eta, s_noise, r };
        check_all(&format!("dpmpp-sde(η = {eta}, s_noise = {s_noise}, r = {r})"), &cases, &s, &|l, sg, x, z| {
            ref_sde(l, sg, x, z, eta, s_noise, r)
        });
    }
}

#[test]
fn the_two_noises_of_a_dpmpp_sde_step_are_correlated_as_the_tree_says() {
    // Negative control: the same step with independent noises (k-diffusion's default_noise_sampler
    // in place of the tree) gives a different law, so the reference resolves the correlation.
    let case = vp_case(7);
    let s = DpmSolverSde::default();
    let got = engine(&s, &case.schedule, 1.0);
    let independent = reference(&case, &|lane, sigmas, x0, z| {
        // ref_sde with fresh normals for each noise_sampler call.
        let mut x = x0;
        for i in 0..sigmas.len() - 1 {
            let denoised = lane.model(&x, sigmas[i]);
            let (t, t_next) = (t_fn(sigmas[i]), t_fn(sigmas[i + 1]));
            let h = t_next - t;
            let s = t + h * 0.5;
            let (sd, su) = get_ancestral_step(sigma_fn(t), sigma_fn(s), 1.0);
            let s_ = t_fn(sd);
            let x_2 = lin(&[(sigma_fn(s_) / sigma_fn(t), &x), (-(t - s_).exp_m1(), &denoised), (su, &z.fresh())]);
            let denoised_2 = lane.model(&x_2, sigma_fn(s));
            let (sd, su) = get_ancestral_step(sigma_fn(t), sigma_fn(t_next), 1.0);
            let t_next_ = t_fn(sd);
            x = lin(&[(sigma_fn(t_next_) / sigma_fn(t), &x), (-(t - t_next_).exp_m1(), &denoised_2), (su, &z.fresh())]);
        }
        x
    });
    let gap = (0..LAMBDAS.len()).map(|i| (got.1[i] - independent.1[i]).abs() / independent.1[i]).fold(0.0, f64::max);
    println!("dpmpp-sde: relative variance gap to independent noises {gap:.3e}");
    assert!(gap > 1e-3, "the correlated and independent laws should differ: {gap:e}");
}

#[test]
fn dpmpp3m_and_dpmpp2m_match_diffusers() {
    let mut cases = standard_cases();
    cases.extend([chain_case(10), chain_case(50)]);
    for lower_order_final in [false, true] {
        check_all(
            &format!("dpmpp3m(lower_order_final = {lower_order_final})"),
            &cases,
            &DpmSolver3M { lower_order_final },
            &|l, sg, x, _| ref_diffusers(l, sg, x, 3, lower_order_final),
        );
        check_all(
            &format!("dpmpp2m(lower_order_final = {lower_order_final})"),
            &cases,
            &DpmSolver2M { lower_order_final },
            &|l, sg, x, _| ref_diffusers(l, sg, x, 2, lower_order_final),
        );
    }
}

#[test]
fn diffusers_third_order_update_is_second_order_and_twice_its_d2_is_third_order() {
    // Order of the diffusers/DPM-Solver multistep "third-order" update, from the transcribed
    // reference alone (no engine): on EDM's Karras grid from the exact start x̃_0 ~ N(μ, v + σ_0²),
    // the exact probability-flow ODE keeps Var x̃ = v + σ², so the error is
    // max over lanes |Var x̃_S − (v + σ_S²)|. Taylor expansion of the data prediction,
    // D(λ_t + u) = D + u D' + u²/2 D'', gives the exact integral term α_s (h²/2 − h + 1 − e^{−h}) D''
    // = −α_s φ₃ h² D'', while diffusers' D2 = (D1_0 − D1_1)/(r0 + r1) is h² D''/2 + O(h³): the D''
    // term is halved, a local error O(h³), global order 2 (in the limit h → 0 the update is
    // h (11 D₀ − 7 D₁ + 2 D₂)/6, not Adams–Bashforth's h (23 D₀ − 16 D₁ + 5 D₂)/12, which 2 D2 gives).
    let slope = |d2_factor: f64| {
        let errs: Vec<f64> = [100usize, 200, 400]
            .iter()
            .map(|&n| {
                let case = edm_case(n, false);
                let s_last = case.sigmas[n];
                LAMBDAS
                    .iter()
                    .zip(&MEANS)
                    .map(|(&v, &mu)| {
                        let mut z = Normals::default();
                        let x0 = lin(&[((v + 6400.0f64).sqrt(), &z.fresh())]);
                        let x0 = Rv { c: mu, ..x0 };
                        let x = ref_diffusers_d2(Lane { v, mu }, &case.sigmas, x0, 3, false, d2_factor);
                        (x.var() - (v + s_last * s_last)).abs()
                    })
                    .fold(0.0, f64::max)
            })
            .collect();
        (errs[0] / errs[2]).ln() / 4f64.ln()
    };
    let (diffusers, doubled) = (slope(1.0), slope(2.0));
    println!("diffusers 3M: order {diffusers:.2}; with 2·D2: order {doubled:.2} (EDM Karras, 100–400 steps)");
    assert!((diffusers - 2.0).abs() < 0.2, "{diffusers}");
    assert!((doubled - 3.0).abs() < 0.2, "{doubled}");
}

#[test]
fn dpmpp2m_sde_matches_k_diffusion() {
    let mut cases = standard_cases();
    cases.push(chain_case(30));
    for solver_type in [DpmSolverType::Midpoint, DpmSolverType::Heun] {
        for (eta, s_noise) in [(1.0, 1.0), (0.4, 0.8), (0.0, 1.0)] {
            let s = DpmSolver2MSde { eta, s_noise, solver_type };
            let heun = solver_type == DpmSolverType::Heun;
            check_all(&format!("dpmpp2m-sde({solver_type:?}, η = {eta}, s_noise = {s_noise})"), &cases, &s, &|l, sg, x, z| {
                ref_2m_sde(l, sg, x, z, eta, s_noise, heun)
            });
        }
    }
}

#[test]
fn dpmpp3m_sde_matches_k_diffusion() {
    let mut cases = standard_cases();
    cases.push(chain_case(30));
    for (eta, s_noise) in [(1.0, 1.0), (0.4, 0.8), (0.0, 1.0)] {
        let s = DpmSolver3MSde { eta, s_noise };
        check_all(&format!("dpmpp3m-sde(η = {eta}, s_noise = {s_noise})"), &cases, &s, &|l, sg, x, z| {
            ref_3m_sde(l, sg, x, z, eta, s_noise)
        });
    }
}

#[test]
fn the_sde_family_at_eta_zero_is_the_ode_family() {
    // k-diffusion: at η = 0 the 2M SDE (midpoint) is sample_dpmpp_2m, the SDE sampler is
    // DPM-Solver++(2S) with r, and 2S ancestral is the deterministic 2S (Lu et al., Algorithm 1).
    let case = edm_case(12, true);
    let ode = engine(&DpmSolver2M::default(), &case.schedule, 80.0);
    let sde0 = engine(&DpmSolver2MSde { eta: 0.0, ..Default::default() }, &case.schedule, 80.0);
    compare("2M SDE at η = 0 vs 2M", sde0, ode);
    let a = engine(&DpmSolver2SAncestral { eta: 0.0, s_noise: 1.0 }, &case.schedule, 80.0);
    let b = engine(&DpmSolverSde { eta: 0.0, s_noise: 1.0, r: 0.5 }, &case.schedule, 80.0);
    compare("2S ancestral at η = 0 vs SDE at η = 0, r = ½", a, b);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    /// Random η, s_noise, r and step counts on VP and EDM: the engine equals the transcribed anchors.
    #[test]
    fn random_parameters_match_the_anchors(eta in 0.0f64..2.0, s_noise in 0.0f64..2.0, r in 0.05f64..1.0, steps in 1usize..25, edm in any::<bool>()) {
        let case = if edm { edm_case(steps.max(2), steps % 2 == 0) } else { vp_case(steps) };
        let cases = [case];
        check_all("dpmpp2s-a", &cases, &DpmSolver2SAncestral { eta, s_noise }, &|l, sg, x, z| ref_2s_ancestral(l, sg, x, z, eta, s_noise));
        check_all("dpmpp-sde", &cases, &DpmSolverSde { eta, s_noise, r }, &|l, sg, x, z| ref_sde(l, sg, x, z, eta, s_noise, r));
        check_all("dpmpp2m-sde", &cases, &DpmSolver2MSde { eta, s_noise, solver_type: DpmSolverType::Heun }, &|l, sg, x, z| {
            ref_2m_sde(l, sg, x, z, eta, s_noise, true)
        });
        check_all("dpmpp3m-sde", &cases, &DpmSolver3MSde { eta, s_noise }, &|l, sg, x, z| ref_3m_sde(l, sg, x, z, eta, s_noise));
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Score evaluations and slots, from the definitions.

#[test]
fn score_evaluations_follow_the_definitions() {
    for steps in [1usize, 2, 9, 30] {
        let vp = vp_case(steps).schedule;
        // Two evaluations per 2S / SDE step; one per multistep step.
        assert_eq!(score_evals(&DpmSolver2SAncestral::default(), &vp).unwrap(), 2 * steps);
        assert_eq!(score_evals(&DpmSolverSde::default(), &vp).unwrap(), 2 * steps);
        for s in [
            Builtin::from(DpmSolver3M::default()),
            Builtin::from(DpmSolver3M { lower_order_final: true }),
            Builtin::from(DpmSolver2M { lower_order_final: true }),
            Builtin::from(DpmSolver2MSde::default()),
            Builtin::from(DpmSolver3MSde::default()),
        ] {
            assert_eq!(score_evals(&s, &vp).unwrap(), steps, "{s:?}");
        }
        // A last step to σ = 0 is one Euler evaluation: 2N − 1 over N steps.
        let edm = edm_case(steps.max(2), true);
        let n = edm.schedule.steps();
        assert_eq!(score_evals(&DpmSolver2SAncestral::default(), &edm.schedule).unwrap(), 2 * n - 1);
        assert_eq!(score_evals(&DpmSolverSde::default(), &edm.schedule).unwrap(), 2 * n - 1);
    }
    // With η = 1.1, σ_up = σ_s (Euler, one evaluation) exactly when 1.1 sqrt(1 − σ_s²/σ_t²) ≥ 1.
    let case = edm_case(10, false);
    let euler_steps = case.sigmas.windows(2).filter(|w| 1.1 * (1.0 - (w[1] / w[0]).powi(2)).sqrt() >= 1.0).count();
    assert!(euler_steps > 0 && euler_steps < 10, "{euler_steps}");
    assert_eq!(score_evals(&DpmSolver2SAncestral { eta: 1.1, s_noise: 1.0 }, &case.schedule).unwrap(), 20 - euler_steps);
    let slot_counts = [
        slots(&DpmSolver2SAncestral::default()),
        slots(&DpmSolverSde::default()),
        slots(&DpmSolver2M::default()),
        slots(&DpmSolver3M::default()),
        slots(&DpmSolver2MSde::default()),
        slots(&DpmSolver3MSde::default()),
    ];
    assert_eq!(slot_counts, [1, 1, 2, 3, 2, 3]);
}

// ---------------------------------------------------------------------------------------------
// 3. Typed errors.

fn validate<S: Sampler<gmdiff_solvers::Count>>(s: S, schedule: &Schedule) -> Result<usize, SolverError> {
    score_evals(&s, schedule)
}

#[test]
fn bad_parameters_are_typed_errors() {
    let sched = vp_case(10).schedule;
    let bad = |r: Result<usize, SolverError>, name: &str| {
        assert!(matches!(&r, Err(SolverError::InvalidParameter { name: n, .. }) if *n == name), "{name}: {r:?}");
    };
    for eta in [-0.1, f64::NAN, f64::INFINITY] {
        bad(validate(DpmSolver2SAncestral { eta, s_noise: 1.0 }, &sched), "eta");
        bad(validate(DpmSolverSde { eta, ..Default::default() }, &sched), "eta");
        bad(validate(DpmSolver2MSde { eta, ..Default::default() }, &sched), "eta");
        bad(validate(DpmSolver3MSde { eta, s_noise: 1.0 }, &sched), "eta");
    }
    for s_noise in [-1.0, f64::NAN, f64::NEG_INFINITY] {
        bad(validate(DpmSolver2SAncestral { eta: 1.0, s_noise }, &sched), "s_noise");
        bad(validate(DpmSolverSde { s_noise, ..Default::default() }, &sched), "s_noise");
        bad(validate(DpmSolver2MSde { s_noise, ..Default::default() }, &sched), "s_noise");
        bad(validate(DpmSolver3MSde { eta: 1.0, s_noise }, &sched), "s_noise");
    }
    for r in [0.0, -0.5, 1.5, f64::NAN] {
        bad(validate(DpmSolverSde { r, ..Default::default() }, &sched), "r");
    }
    assert_eq!(DpmSolverType::from_name("heun"), Some(DpmSolverType::Heun));
    assert_eq!(DpmSolverType::from_name("midpoint"), Some(DpmSolverType::Midpoint));
    assert_eq!(DpmSolverType::from_name("euler"), None);
}

#[test]
fn the_stage_samplers_refuse_chains_and_a_start_at_zero_signal() {
    let chain = chain_case(20).schedule;
    let flow = Schedule::grid(Process::Flow(Flow::default()), TimeGrid::uniform(&Process::Flow(Flow::default()), 10, 1e-3).unwrap());
    for s in [Builtin::from(DpmSolver2SAncestral::default()), Builtin::from(DpmSolverSde::default())] {
        assert!(matches!(score_evals(&s, &chain), Err(SolverError::Unsupported { .. })), "{s:?} on a chain");
        assert!(matches!(score_evals(&s, &flow), Err(SolverError::Unsupported { .. })), "{s:?} at a_T = 0");
    }
    // The multistep samplers run on both (finite at a_T = 0, where e^{−h} = 0).
    for s in [Builtin::from(DpmSolver3M::default()), Builtin::from(DpmSolver2MSde::default()), Builtin::from(DpmSolver3MSde::default())] {
        assert_eq!(score_evals(&s, &chain).unwrap(), 20);
        let (m, v) = engine(&s, &flow, 1.0);
        assert!(m.iter().chain(&v).all(|x| x.is_finite()), "{s:?} at a_T = 0: {m:?} {v:?}");
    }
}
