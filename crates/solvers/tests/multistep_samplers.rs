//! UniPC, DEIS and LMS (issue 13) against independent references.
//!
//! * Scalar oracles: on 1-D Gaussian data `N(μ, v)` every position of these deterministic samplers
//!   is affine in the start `x_T ~ N(0, s²)`, so the output law is `N(d, c² s²)` with `(c, d)` from a
//!   scalar recurrence. The recurrences below are written from the anchors' formulas and control
//!   flow (diffusers' `UniPCMultistepScheduler.step` / `multistep_uni_p_bh_update` /
//!   `multistep_uni_c_bh_update`, `DEISMultistepScheduler.step` with its `ind_fn` in `ρ`, k-diffusion's
//!   `sample_lms` with `linear_multistep_coeff`), not from our step code: lists of all past model
//!   outputs instead of rotating slots, the denoiser `D = μ + v/(v + σ²)(x/a − μ)` instead of the
//!   score, `φ_k` by Gauss–Legendre quadrature of `∫₀¹ e^{(1−θ)z} θ^{k−1}/(k−1)! dθ` instead of series
//!   and recursion, Cramer's rule instead of elimination, diffusers' logρ antiderivatives instead of
//!   incomplete gammas in `λ`, and Simpson's rule in `σ` (exact for the cubic Lagrange basis) instead of
//!   monomials in a normalised variable. They must agree with `output_law` to 1e-10 relative.
//! * Exactness: LMS of order `p` integrates `dx̃/dσ = P'(σ)` exactly for a polynomial `P` of degree
//!   `p` once its order has ramped up to `p`; DEIS of order `p` integrates `dx̃/dσ = Q(λ)` exactly for
//!   `Q` of degree `p − 1` in `λ = −log σ` (the exact increment by quadrature). Both fail on the
//!   warm-up steps, which is checked too.
//! * Costs derived from the step code (one evaluation per step), slots, typed errors.

use gmdiff_process::{Coefficients, DiscreteChain, Edm, Flow, GaussianPath, Process, SubVp, TimeGrid, Ve};
use gmdiff_solvers::samplers::{Deis, Lms, UniPc, UniPcVariant};
use gmdiff_solvers::{
    Algebra, Builtin, Carrier, Diag, LawStart, Op, Schedule, SolverError, SpectralGaussian, is_stochastic, output_law, run, score_evals,
    slots,
};

// ---------------------------------------------------------------------------------------------
// Scalar affine values c·x_T + d and the 1-D Gaussian denoiser.

#[derive(Clone, Copy, Debug)]
struct Aff {
    c: f64,
    d: f64,
}

impl Aff {
    fn scale(self, k: f64) -> Aff {
        Aff { c: k * self.c, d: k * self.d }
    }
    fn plus(self, o: Aff) -> Aff {
        Aff { c: self.c + o.c, d: self.d + o.d }
    }
    fn minus(self, o: Aff) -> Aff {
        Aff { c: self.c - o.c, d: self.d - o.d }
    }
}

/// One grid point: `a`, `b` (from the schedule; everything else is derived here).
#[derive(Clone, Copy)]
struct Pt {
    a: f64,
    b: f64,
}

impl Pt {
    fn lam(&self) -> f64 {
        (self.a / self.b).ln()
    }
    fn sigma(&self) -> f64 {
        self.b / self.a
    }
}

/// `E[x₀ | x]` for `x₀ ~ N(μ, v)` and `x = a x₀ + b z`, in k-diffusion's form
/// `D = μ + v/(v + σ²) (x/a − μ)`.
fn denoiser(x: Aff, p: Pt, mu: f64, v: f64) -> Aff {
    let s2 = p.sigma() * p.sigma();
    let g = v / (v + s2);
    Aff { c: g * x.c / p.a, d: mu + g * (x.d / p.a - mu) }
}

fn points(sched: &Schedule) -> Vec<Pt> {
    (0..=sched.steps())
        .map(|k| {
            let c = sched.point(k).unwrap();
            Pt { a: c.a, b: c.b }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Independent numerics: Gauss–Legendre nodes (Newton on P_n), φ-functions by quadrature, Cramer.

fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|i| {
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut dp = 0.0;
            for _ in 0..100 {
                let (mut p0, mut p1) = (1.0, x);
                for k in 2..=n {
                    let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                    p0 = p1;
                    p1 = p2;
                }
                dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
                let dx = p1 / dp;
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            (x, 2.0 / ((1.0 - x * x) * dp * dp))
        })
        .collect()
}

/// `∫_lo^hi f` by composite Gauss–Legendre (`panels` × 12 nodes).
fn integrate(f: impl Fn(f64) -> f64, lo: f64, hi: f64, panels: usize) -> f64 {
    let gl = gauss_legendre(12);
    let w = (hi - lo) / panels as f64;
    (0..panels)
        .map(|p| {
            let mid = lo + (p as f64 + 0.5) * w;
            gl.iter().map(|(x, wt)| wt * f(mid + 0.5 * w * x)).sum::<f64>() * 0.5 * w
        })
        .sum()
}

/// `φ_k(z) = ∫₀¹ e^{(1−θ)z} θ^{k−1}/(k−1)! dθ` (UniPC paper, the exponential-integrator φ's).
fn phi(k: usize, z: f64) -> f64 {
    let fact: f64 = (1..k).map(|i| i as f64).product();
    integrate(|th| ((1.0 - th) * z).exp() * th.powi(k as i32 - 1) / fact, 0.0, 1.0, 32)
}

fn det3(m: [[f64; 3]; 3]) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

/// Cramer's rule for `Σ_m ρ_m r_m^{i−1} = g_i`, `i = 1..n`, `n ≤ 3`.
fn cramer(r: &[f64], g: &[f64]) -> Vec<f64> {
    let n = r.len();
    // The n × n system embedded in a 3 × 3 one with an identity block.
    let entry = |i: usize, j: usize| {
        if i < n && j < n {
            r[j].powi(i as i32)
        } else if i == j {
            1.0
        } else {
            0.0
        }
    };
    let det = det3(std::array::from_fn(|i| std::array::from_fn(|j| entry(i, j))));
    (0..n)
        .map(|col| det3(std::array::from_fn(|i| std::array::from_fn(|j| if j == col && i < n { g[i] } else { entry(i, j) }))) / det)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The oracles.

/// UniPC as diffusers' `UniPCMultistepScheduler` (predict_x0) runs it, with UniC at every step
/// but the first and UniP everywhere; a last step to b = 0 is x ← a D (what bh2 at order 1 gives).
fn unipc_oracle(pts: &[Pt], x_start: Aff, mu: f64, v: f64, s: &UniPc) -> Aff {
    let steps = pts.len() - 1;
    let lam: Vec<f64> = pts.iter().map(Pt::lam).collect();
    let bh = |z: f64| match s.variant {
        UniPcVariant::Bh1 => z,
        UniPcVariant::Bh2 => z.exp_m1(),
    };
    // The update from point `i` (position x, outputs[i]) to `i + 1` with `order`, optionally
    // correcting with the model output at `i + 1`.
    let update = |outputs: &[Aff], x: Aff, i: usize, order: usize, corrector: Option<Aff>| -> Aff {
        let h = lam[i + 1] - lam[i];
        let z = -h;
        let m0 = outputs[i];
        let mut rks = Vec::new();
        let mut d1s = Vec::new();
        for j in 1..order {
            let rk = (lam[i - j] - lam[i]) / h;
            rks.push(rk);
            d1s.push(outputs[i - j].minus(m0).scale(1.0 / rk));
        }
        if let Some(mt) = corrector {
            rks.push(1.0);
            d1s.push(mt.minus(m0));
        }
        let n = rks.len();
        let b: Vec<f64> = (1..=n).map(|k| (1..=k).map(|f| f as f64).product::<f64>() * z * phi(k + 1, z) / bh(z)).collect();
        let rhos = if n == 1 { vec![0.5] } else { cramer(&rks, &b) };
        let (p0, p1) = (pts[i], pts[i + 1]);
        let mut out = x.scale(p1.b / p0.b).minus(m0.scale(p1.a * z.exp_m1()));
        for (rho, d1) in rhos.iter().zip(&d1s) {
            out = out.minus(d1.scale(p1.a * bh(z) * rho));
        }
        out
    };
    let mut outputs: Vec<Aff> = Vec::new();
    let mut x = x_start;
    let mut last_sample = x;
    let mut this_order = 0;
    for k in 0..steps {
        let m = denoiser(x, pts[k], mu, v);
        if s.use_corrector && k > 0 {
            x = update(&outputs, last_sample, k - 1, this_order, Some(m));
        }
        outputs.push(m);
        let o = if s.lower_order_final { s.order.min(steps - k) } else { s.order };
        this_order = o.min(k + 1);
        last_sample = x;
        x = if pts[k + 1].b == 0.0 { m.scale(pts[k + 1].a) } else { update(&outputs, x, k, this_order, None) };
    }
    x
}

/// DEIS as diffusers' `DEISMultistepScheduler` runs it (ε-prediction, logρ), with its first-order
/// step written as `α_t (x/α_s − (ρ_s − ρ_t) ε)` so that it is finite at `ρ_t = 0`.
fn deis_oracle(pts: &[Pt], x_start: Aff, mu: f64, v: f64, s: &Deis) -> Aff {
    let steps = pts.len() - 1;
    let ind2 = |t: f64, b: f64, c: f64| t * (-c.ln() + t.ln() - 1.0) / (b.ln() - c.ln());
    let ind3 = |t: f64, b: f64, c: f64, d: f64| {
        let (lt, lc, ld) = (t.ln(), c.ln(), d.ln());
        t * (lc * (ld - lt + 1.0) - ld * lt + ld + lt * lt - 2.0 * lt + 2.0) / ((b.ln() - lc) * (b.ln() - ld))
    };
    let mut outputs: Vec<Aff> = Vec::new();
    let mut x = x_start;
    for k in 0..steps {
        let (p0, p1) = (pts[k], pts[k + 1]);
        let eps = x.minus(denoiser(x, p0, mu, v).scale(p0.a)).scale(1.0 / p0.b);
        outputs.push(eps);
        let lower = s.lower_order_final && steps < 15;
        let (final_, second) = (lower && k == steps - 1, lower && k + 2 == steps);
        let rho = |i: usize| pts[i].sigma();
        x = if s.order == 1 || k < 1 || final_ || p1.b == 0.0 {
            x.scale(1.0 / p0.a).minus(eps.scale(rho(k) - rho(k + 1))).scale(p1.a)
        } else if s.order == 2 || k < 2 || second {
            let c1 = ind2(rho(k + 1), rho(k), rho(k - 1)) - ind2(rho(k), rho(k), rho(k - 1));
            let c2 = ind2(rho(k + 1), rho(k - 1), rho(k)) - ind2(rho(k), rho(k - 1), rho(k));
            x.scale(1.0 / p0.a).plus(outputs[k].scale(c1)).plus(outputs[k - 1].scale(c2)).scale(p1.a)
        } else {
            let (t, s0, s1, s2) = (rho(k + 1), rho(k), rho(k - 1), rho(k - 2));
            let c1 = ind3(t, s0, s1, s2) - ind3(s0, s0, s1, s2);
            let c2 = ind3(t, s1, s2, s0) - ind3(s0, s1, s2, s0);
            let c3 = ind3(t, s2, s0, s1) - ind3(s0, s2, s0, s1);
            x.scale(1.0 / p0.a).plus(outputs[k].scale(c1)).plus(outputs[k - 1].scale(c2)).plus(outputs[k - 2].scale(c3)).scale(p1.a)
        };
    }
    x
}

/// k-diffusion's `linear_multistep_coeff(order, σ, i, j)`, by Simpson's rule (exact for the
/// Lagrange basis of degree ≤ 3).
fn lms_coeff(order: usize, sig: &[f64], i: usize, j: usize) -> f64 {
    let f = |tau: f64| (0..order).filter(|&k| k != j).map(|k| (tau - sig[i - k]) / (sig[i - j] - sig[i - k])).product::<f64>();
    let (lo, hi) = (sig[i], sig[i + 1]);
    (hi - lo) / 6.0 * (f(lo) + 4.0 * f(0.5 * (lo + hi)) + f(hi))
}

/// k-diffusion's `sample_lms` on `x̃ = x/a`.
fn lms_oracle(pts: &[Pt], x_start: Aff, mu: f64, v: f64, s: &Lms) -> Aff {
    let sig: Vec<f64> = pts.iter().map(Pt::sigma).collect();
    let mut xt = x_start.scale(1.0 / pts[0].a);
    let mut ds: Vec<Aff> = Vec::new();
    for i in 0..pts.len() - 1 {
        let den = denoiser(xt.scale(pts[i].a), pts[i], mu, v);
        ds.push(xt.minus(den).scale(1.0 / sig[i]));
        let cur = (i + 1).min(s.order);
        for j in 0..cur {
            xt = xt.plus(ds[i - j].scale(lms_coeff(cur, &sig, i, j)));
        }
    }
    xt.scale(pts[pts.len() - 1].a)
}

// ---------------------------------------------------------------------------------------------
// Oracles against output_law.

/// Non-centred 1-D data per coordinate: (μ, v).
const DATA: [(f64, f64); 4] = [(1.0, 0.8), (-0.5, 0.05), (2.0, 3.0), (0.3, 1e-3)];

fn schedules() -> Vec<(String, Schedule)> {
    let vp = Process::default();
    let edm = Process::Edm(Edm::default());
    let mut out = Vec::new();
    for steps in [1usize, 2, 3, 4, 6, 9, 14, 23, 40] {
        out.push((format!("vp {steps}"), Schedule::grid(vp, TimeGrid::uniform(&vp, steps, 1e-3).unwrap())));
        out.push((format!("edm karras {steps}"), Schedule::grid(edm, TimeGrid::karras(&edm, steps, 0.002, 7.0).unwrap())));
    }
    for steps in [5usize, 18] {
        out.push((
            format!("edm karras {steps} + 0"),
            Schedule::grid(edm, TimeGrid::karras(&edm, steps, 0.002, 7.0).unwrap().with_final_zero()),
        ));
        out.push((format!("vp {steps} to t = 0"), Schedule::grid(vp, TimeGrid::uniform(&vp, steps, 0.0).unwrap())));
    }
    let (ve, svp) = (Process::Ve(Ve::default()), Process::SubVp(SubVp::default()));
    out.push(("ve 12".into(), Schedule::grid(ve, TimeGrid::uniform(&ve, 12, 1e-3).unwrap())));
    out.push(("sub-vp 12".into(), Schedule::grid(svp, TimeGrid::uniform(&svp, 12, 1e-3).unwrap())));
    out.push(("flow T = 0.9".into(), {
        let f = Process::Flow(Flow::new(0.9).unwrap());
        Schedule::grid(f, TimeGrid::uniform(&f, 12, 1e-3).unwrap())
    }));
    out.push(("chain 30".into(), Schedule::Chain(DiscreteChain::ho_linear(30, 1e-4, 0.2).unwrap())));
    out
}

/// Runs `sampler` on the exact-law engine and compares mean and variance of every coordinate with
/// `oracle`; returns the worst relative gap.
fn against_oracle(sampler: &Builtin, sched: &Schedule, label: &str, oracle: impl Fn(&[Pt], Aff, f64, f64) -> Aff) -> f64 {
    let target = SpectralGaussian::new(DATA.iter().map(|d| d.1).collect(), Some(DATA.iter().map(|d| d.0).collect())).unwrap();
    let out = output_law(sampler, sched, &target, LawStart::<Diag>::Standard, |_, _| Ok(())).unwrap();
    let mean = out.law.mean.unwrap();
    let var = match out.law.cov {
        Op::Full(Diag(v)) => v,
        Op::Scalar(s) => vec![s; DATA.len()],
    };
    let pts = points(sched);
    let s2 = sched.start_std().powi(2);
    let mut worst: f64 = 0.0;
    for (i, &(mu, v)) in DATA.iter().enumerate() {
        let o = oracle(&pts, Aff { c: 1.0, d: 0.0 }, mu, v);
        let (want_m, want_v) = (o.d, o.c * o.c * s2);
        let rm = (mean[i] - want_m).abs() / want_m.abs();
        let rv = (var[i] - want_v).abs() / want_v.abs();
        assert!(
            rm < 1e-10 && rv < 1e-10,
            "{sampler:?} on {label}, μ = {mu}, v = {v}: law ({}, {}) vs oracle ({want_m}, {want_v})",
            mean[i],
            var[i]
        );
        worst = worst.max(rm).max(rv);
    }
    worst
}

fn unipc_configurations() -> Vec<UniPc> {
    let mut v = Vec::new();
    for variant in [UniPcVariant::Bh1, UniPcVariant::Bh2] {
        for order in 1..=3 {
            for use_corrector in [true, false] {
                for lower_order_final in [true, false] {
                    v.push(UniPc { variant, order, use_corrector, lower_order_final });
                }
            }
        }
    }
    v
}

#[test]
fn unipc_matches_the_diffusers_recurrence() {
    let mut worst: f64 = 0.0;
    for (label, sched) in schedules() {
        for s in unipc_configurations() {
            worst = worst.max(against_oracle(&Builtin::UniPc(s), &sched, &label, |p, x, mu, v| unipc_oracle(p, x, mu, v, &s)));
        }
    }
    println!("unipc: worst relative gap to the oracle {worst:e}");
}

#[test]
fn deis_matches_the_diffusers_recurrence() {
    let mut worst: f64 = 0.0;
    for (label, sched) in schedules() {
        for order in 1..=3 {
            for lower_order_final in [true, false] {
                let s = Deis { order, lower_order_final };
                worst = worst.max(against_oracle(&Builtin::Deis(s), &sched, &label, |p, x, mu, v| deis_oracle(p, x, mu, v, &s)));
            }
        }
    }
    println!("deis: worst relative gap to the oracle {worst:e}");
}

#[test]
fn lms_matches_the_k_diffusion_recurrence() {
    let mut worst: f64 = 0.0;
    for (label, sched) in schedules() {
        for order in 1..=4 {
            let s = Lms { order };
            worst = worst.max(against_oracle(&Builtin::Lms(s), &sched, &label, |p, x, mu, v| lms_oracle(p, x, mu, v, &s)));
        }
    }
    println!("lms: worst relative gap to the oracle {worst:e}");
}

#[test]
fn the_oracles_see_every_option() {
    // Each option changes the output by far more than the 1e-10 tolerance, so the agreement above
    // is not blind to it (9 VP steps, coordinate 0).
    let pts = points(&Schedule::uniform_vp(9, 1e-3).unwrap());
    let x = Aff { c: 1.0, d: 0.0 };
    let (mu, v) = DATA[0];
    let base = UniPc { variant: UniPcVariant::Bh2, order: 3, use_corrector: true, lower_order_final: true };
    let u = |s: UniPc| unipc_oracle(&pts, x, mu, v, &s).c;
    for other in [
        UniPc { variant: UniPcVariant::Bh1, ..base },
        UniPc { order: 2, ..base },
        UniPc { use_corrector: false, ..base },
        UniPc { lower_order_final: false, ..base },
    ] {
        assert!((u(other) - u(base)).abs() > 1e-6 * u(base).abs(), "{other:?}");
    }
    let d = |s: Deis| deis_oracle(&pts, x, mu, v, &s).c;
    let deis = Deis { order: 3, lower_order_final: true };
    for other in [Deis { order: 2, ..deis }, Deis { lower_order_final: false, ..deis }] {
        assert!((d(other) - d(deis)).abs() > 1e-6 * d(deis).abs(), "{other:?}");
    }
    let l = |order| lms_oracle(&pts, x, mu, v, &Lms { order }).c;
    assert!((l(4) - l(3)).abs() > 1e-6 * l(4).abs());
}

// ---------------------------------------------------------------------------------------------
// Exactness on polynomial fields, through a scalar algebra whose ε̂ is a given function of the
// grid point (so the exact solution is known in closed form).

/// A noise prediction given as a function of the grid point.
type FieldFn = fn(&Coefficients) -> f64;
/// A scalar function (the field as a function of `λ`).
type ScalarFn = fn(f64) -> f64;

/// A scalar carrier whose noise prediction `ε̂ = (x − a D)/b` is `field(at)` whatever `x`: its score
/// is `−field(at)/b`, so the default `denoise` gives `D = (x − b field)/a`. As nothing depends on the
/// position, every step starts from position 0 (the history slots are kept), so that the position
/// after step `k` is `a_{k+1}` times the step's increment of `x̃`, free of the rounding of the sum of
/// the earlier increments.
struct Field {
    field: FieldFn,
    state: Vec<f64>,
    evals: usize,
}

impl Algebra for Field {
    type Value = f64;
    fn lin(&mut self, terms: &[(f64, &f64)]) -> f64 {
        terms.iter().map(|(c, v)| c * *v).sum()
    }
    fn score(&mut self, at: &Coefficients, _: &f64) -> Result<f64, SolverError> {
        self.evals += 1;
        Ok(-(self.field)(at) / at.b)
    }
    fn noise(&mut self) -> f64 {
        0.0
    }
    fn score_evals(&self) -> usize {
        self.evals
    }
}

impl Carrier for Field {
    fn open(&mut self) -> Vec<f64> {
        let mut state = std::mem::take(&mut self.state);
        state[0] = 0.0;
        state
    }
    fn close(&mut self, values: Vec<f64>) -> Result<(), SolverError> {
        self.state = values;
        Ok(())
    }
}

/// The increments `x̃_{k+1} − x̃_k` (`x̃ = x/a`) of every step.
fn increments<S: gmdiff_solvers::Sampler<Field>>(s: &S, sched: &Schedule, field: FieldFn) -> Vec<f64> {
    let mut alg = Field { field, state: vec![0.0], evals: 0 };
    let mut inc = Vec::new();
    run(s, sched, &mut alg, |k, c| {
        if k > 0 {
            inc.push(c.state[0] / sched.point(k)?.a);
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(alg.evals, sched.steps());
    inc
}

fn poly_schedules() -> Vec<Schedule> {
    let edm = Process::Edm(Edm::default());
    let vp = Process::default();
    vec![
        Schedule::grid(edm, TimeGrid::karras(&edm, 12, 0.002, 7.0).unwrap().with_final_zero()),
        Schedule::grid(vp, TimeGrid::uniform(&vp, 16, 1e-3).unwrap()),
    ]
}

/// `P'(σ)` of degree 3 (so `P` of degree 4): the field of the LMS check, and lower degrees.
fn dp3(c: &Coefficients) -> f64 {
    let s = c.b / c.a;
    0.7 - 0.3 * s + 0.05 * s * s - 0.002 * s * s * s
}
fn dp2(c: &Coefficients) -> f64 {
    let s = c.b / c.a;
    0.7 - 0.3 * s + 0.05 * s * s
}
fn dp1(c: &Coefficients) -> f64 {
    0.7 - 0.3 * c.b / c.a
}
fn dp0(_: &Coefficients) -> f64 {
    0.7
}

#[test]
fn lms_of_order_p_integrates_a_polynomial_of_degree_p_exactly_after_its_warm_up() {
    // dx̃/dσ = P'(σ), P of degree p: x̃_{k+1} − x̃_k = P(σ_{k+1}) − P(σ_k), exact (the interpolant of
    // P' on p nodes is P' itself) on every step of order p, i.e. k ≥ p − 1.
    let fields: [(FieldFn, [f64; 4]); 4] =
        [(dp0, [0.7, 0.0, 0.0, 0.0]), (dp1, [0.7, -0.3, 0.0, 0.0]), (dp2, [0.7, -0.3, 0.05, 0.0]), (dp3, [0.7, -0.3, 0.05, -0.002])];
    for sched in poly_schedules() {
        let sig: Vec<f64> = (0..=sched.steps()).map(|k| sched.point(k).map(|c| c.b / c.a).unwrap()).collect();
        for p in 1..=4usize {
            let (field, coef) = fields[p - 1];
            let big_p = |s: f64| coef.iter().enumerate().map(|(i, c)| c * s.powi(i as i32 + 1) / (i + 1) as f64).sum::<f64>();
            let inc = increments(&Lms { order: p }, &sched, field);
            for (k, &got) in inc.iter().enumerate() {
                let want = big_p(sig[k + 1]) - big_p(sig[k]);
                let rel = (got - want).abs() / want.abs();
                if k + 1 >= p {
                    assert!(rel < 1e-11, "order {p}, step {k}: {got} vs {want} ({rel:e})");
                } else {
                    assert!(rel > 1e-8, "order {p}, warm-up step {k} should not be exact: {got} vs {want}");
                }
            }
        }
    }
}

/// `Q(λ)` of degree 2 and lower: the fields of the DEIS check.
fn q2(c: &Coefficients) -> f64 {
    0.4 + 0.3 * c.lambda - 0.1 * c.lambda * c.lambda
}
fn q1(c: &Coefficients) -> f64 {
    0.4 + 0.3 * c.lambda
}

#[test]
fn deis_of_order_p_integrates_a_field_polynomial_in_lambda_exactly() {
    // dx̃/dσ = Q(−log σ), Q of degree p − 1: the increment ∫_{σ_k}^{σ_{k+1}} Q(−log σ) dσ, here by
    // Gauss–Legendre in λ (σ = e^{−λ}), is exact on every step of order p.
    let fields: [(FieldFn, ScalarFn); 3] = [(dp0, |_| 0.7), (q1, |l| 0.4 + 0.3 * l), (q2, |l| 0.4 + 0.3 * l - 0.1 * l * l)];
    let vp = Process::default();
    let edm = Process::Edm(Edm::default());
    // Grids ending at b > 0 (DEIS takes a last step to b = 0 at order 1).
    for sched in [
        Schedule::grid(edm, TimeGrid::karras(&edm, 20, 0.002, 7.0).unwrap()),
        Schedule::grid(vp, TimeGrid::uniform(&vp, 16, 1e-3).unwrap()),
    ] {
        let lam: Vec<f64> = (0..=sched.steps()).map(|k| sched.point(k).unwrap().lambda).collect();
        for p in 1..=3usize {
            let (field, q) = fields[p - 1];
            let inc = increments(&Deis { order: p, lower_order_final: false }, &sched, field);
            for (k, &got) in inc.iter().enumerate() {
                // ∫_{λ_k}^{λ_{k+1}} −e^{−λ} Q(λ) dλ.
                let want = integrate(|l| -(-l).exp() * q(l), lam[k], lam[k + 1], 16);
                let rel = (got - want).abs() / want.abs();
                if k + 1 >= p {
                    assert!(rel < 1e-11, "order {p}, step {k}: {got} vs {want} ({rel:e})");
                } else {
                    assert!(rel > 1e-8, "order {p}, warm-up step {k} should not be exact: {got} vs {want}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Costs, slots, chains, refusals, parameters.

fn all_configurations() -> Vec<Builtin> {
    let mut v: Vec<Builtin> = unipc_configurations().into_iter().map(Builtin::UniPc).collect();
    for order in 1..=3 {
        for lower_order_final in [true, false] {
            v.push(Builtin::Deis(Deis { order, lower_order_final }));
        }
    }
    v.extend((1..=4).map(|order| Builtin::Lms(Lms { order })));
    v
}

#[test]
fn one_evaluation_per_step_on_grids_and_chains_and_the_documented_slots() {
    // UniC reuses the next step's evaluation, so every configuration costs one evaluation per step
    // (Zhao et al. 2023, §3.2: "no extra function evaluations"); the last position is not corrected.
    let chain = Schedule::Chain(DiscreteChain::ho_linear(100, 1e-4, 0.02).unwrap());
    for s in all_configurations() {
        for steps in [1usize, 2, 3, 4, 7, 12, 50] {
            let sched = Schedule::uniform_vp(steps, 1e-3).unwrap();
            assert_eq!(score_evals(&s, &sched).unwrap(), steps, "{s:?}");
            assert!(!is_stochastic(&s, &sched).unwrap(), "{s:?}");
        }
        assert_eq!(score_evals(&s, &chain).unwrap(), 100, "{s:?}");
        // The position, the stored part of the next correction (UniC) and the stored history.
        let want = match s {
            Builtin::UniPc(u) => 1 + usize::from(u.use_corrector) + u.order - 1,
            Builtin::Deis(d) => d.order,
            Builtin::Lms(l) => l.order,
            _ => unreachable!(),
        };
        assert_eq!(slots(&s), want, "{s:?}");
    }
}

#[test]
fn the_defaults_are_the_anchors() {
    assert_eq!(
        Builtin::from_name("unipc"),
        Some(Builtin::UniPc(UniPc { variant: UniPcVariant::Bh2, order: 2, use_corrector: true, lower_order_final: true }))
    );
    assert_eq!(Builtin::from_name("deis"), Some(Builtin::Deis(Deis { order: 2, lower_order_final: true })));
    assert_eq!(Builtin::from_name("lms"), Some(Builtin::Lms(Lms { order: 4 })));
    assert_eq!(UniPcVariant::from_name("bh1"), Some(UniPcVariant::Bh1));
    assert_eq!(UniPcVariant::NAMES.map(|n| UniPcVariant::from_name(n).unwrap().name()), UniPcVariant::NAMES);
    assert_eq!(UniPcVariant::from_name("bh3"), None);
}

#[test]
fn bad_orders_are_typed_errors() {
    let sched = Schedule::uniform_vp(10, 1e-3).unwrap();
    let bad: Vec<Builtin> = vec![
        Builtin::UniPc(UniPc { order: 0, ..UniPc::default() }),
        Builtin::UniPc(UniPc { order: 4, ..UniPc::default() }),
        Builtin::Deis(Deis { order: 0, lower_order_final: true }),
        Builtin::Deis(Deis { order: 4, lower_order_final: false }),
        Builtin::Lms(Lms { order: 0 }),
        Builtin::Lms(Lms { order: 5 }),
    ];
    for s in bad {
        let e = score_evals(&s, &sched).unwrap_err();
        assert!(matches!(e, SolverError::InvalidParameter { name: "order", .. }), "{s:?}: {e}");
        let target = SpectralGaussian::centred(vec![1.0]).unwrap();
        let e = output_law(&s, &sched, &target, LawStart::<Diag>::Standard, |_, _| Ok(())).unwrap_err();
        assert!(matches!(e, SolverError::InvalidParameter { name: "order", .. }), "{s:?}: {e}");
    }
}

#[test]
fn a_start_with_zero_signal_is_refused_and_a_shorter_flow_runs() {
    let flow = Process::Flow(Flow::default());
    let at_one = Schedule::grid(flow, TimeGrid::uniform(&flow, 20, 1e-3).unwrap());
    let short = Process::Flow(Flow::new(0.9).unwrap());
    let below = Schedule::grid(short, TimeGrid::uniform(&short, 20, 1e-3).unwrap());
    assert_eq!(flow.at(1.0).unwrap().a, 0.0);
    for s in all_configurations() {
        let e = score_evals(&s, &at_one).unwrap_err();
        assert!(matches!(e, SolverError::Unsupported { .. }), "{s:?}: {e}");
        assert_eq!(score_evals(&s, &below).unwrap(), 20);
    }
}

// ---------------------------------------------------------------------------------------------
// Orders of convergence on exact laws.

/// `W2(output, p_{σ_min})` on the EDM path, Karras grid (ρ = 7, σ 80 → 0.002), from the exact
/// `p_T` (so the error is discretisation only), centred data with `spectrum`; for diagonal laws
/// `W2² = Σ_i (sqrt(v_i) − sqrt(λ_i + σ_min²))²`.
fn edm_w2(s: &Builtin, spectrum: &[f64], steps: usize) -> f64 {
    let edm = Process::Edm(Edm::default());
    let sched = Schedule::grid(edm, TimeGrid::karras(&edm, steps, 0.002, 7.0).unwrap());
    let target = SpectralGaussian::centred(spectrum.to_vec()).unwrap();
    let out = output_law(s, &sched, &target, LawStart::<Diag>::Exact, |_, _| Ok(())).unwrap();
    let v = match out.law.cov {
        Op::Full(Diag(v)) => v,
        Op::Scalar(x) => vec![x; spectrum.len()],
    };
    v.iter().zip(spectrum).map(|(v, l)| (v.sqrt() - (l + 0.002f64 * 0.002).sqrt()).powi(2)).sum::<f64>().sqrt()
}

/// The least-squares slope of `−log W2` against `log NFE` (one evaluation per step).
fn fitted_order(s: &Builtin, spectrum: &[f64], nfes: &[usize]) -> f64 {
    let pts: Vec<(f64, f64)> = nfes.iter().map(|&n| ((n as f64).ln(), edm_w2(s, spectrum, n).ln())).collect();
    let (mx, my) = (pts.iter().map(|p| p.0).sum::<f64>() / pts.len() as f64, pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64);
    -pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / pts.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>()
}

#[test]
fn measured_orders_on_the_edm_karras_grid() {
    // Slopes of log W2 against log NFE (least squares over NFE 40–160) on a 6-eigenvalue spectrum:
    // UniPC with the corrector is of order p + 1 and without it p (Zhao et al. 2023: UniC-p raises
    // the order of UniP-p by one), DEIS of order p, LMS of order p for p ≤ 2; ±0.2 as in issue 13.
    let spectrum = [1e-3, 0.02, 0.3, 1.0, 4.0, 25.0];
    let nfes = [40, 57, 80, 113, 160];
    let mut cases: Vec<(Builtin, f64)> = Vec::new();
    for variant in [UniPcVariant::Bh1, UniPcVariant::Bh2] {
        for order in 1..=3 {
            cases.push((Builtin::UniPc(UniPc { variant, order, use_corrector: true, lower_order_final: false }), order as f64 + 1.0));
            cases.push((Builtin::UniPc(UniPc { variant, order, use_corrector: false, lower_order_final: false }), order as f64));
        }
    }
    cases.extend((1..=3).map(|p| (Builtin::Deis(Deis { order: p, lower_order_final: false }), p as f64)));
    cases.extend((1..=2).map(|p| (Builtin::Lms(Lms { order: p }), p as f64)));
    for (s, p) in cases {
        let o = fitted_order(&s, &spectrum, &nfes);
        println!("{s:?}: fitted order {o:.2} (p = {p})");
        assert!((o - p).abs() <= 0.2, "{s:?}: fitted order {o} vs {p}");
    }
    // The anchors' own conventions cost the higher orders asymptotically, through one first-order
    // step whose O(h²) local error is not accumulated but not damped either: diffusers' UniPC with
    // `lower_order_final` takes its last step at order 1 without a corrector (on the Karras grid the
    // last step is the longest in λ), and k-diffusion's LMS warms up with `cur_order = min(i + 1,
    // order)`, so its first step is Euler. Both settle on slope 2 at large NFE (640–1810).
    let far = [640, 905, 1280, 1810];
    for s in [Builtin::UniPc(UniPc { order: 3, ..UniPc::default() }), Builtin::Lms(Lms { order: 4 })] {
        let o = fitted_order(&s, &spectrum, &far);
        println!("{s:?}: fitted order {o:.2} at NFE 640–1810");
        assert!((o - 2.0).abs() <= 0.2, "{s:?}: fitted order {o} at NFE 640–1810");
    }
}
