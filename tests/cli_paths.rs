//! The CLI on every Gaussian path (issue 12, item 5): the shared sampler options (grids, ρ, η,
//! corrector settings), the EDM conventions, and `gaussian-error --law`. Each route is checked
//! against a value computed here: a scalar recurrence written from the path's definition, a grid
//! formula from its paper, or the library function the CLI calls (same arguments, bit for bit).

use crate::common;
use common::*;
use gmdiff::gaussian::{Dynamics, Init, SpectralProblem, SpectralScore};
use gmdiff::process::{Edm, Flow, GaussianPath, Process, TimeGrid, Ve, VpCosine};
use gmdiff::solvers::{
    Builtin, Dense, DenseGaussian, Dpom, Dpum, Euler, Heun, Langevin, LawStart, LinearScore, Op, Schedule, Start, Underdamped, output_law,
    sample,
};
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn ok_json(args: &[&str]) -> serde_json::Value {
    let r = gmdiff(args);
    assert_eq!(r.status, 0, "{args:?}: {}", r.stderr);
    serde_json::from_str(r.stdout.trim()).unwrap()
}

fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// The trajectory's grid times, in the sampler's order `t_0 = T, …, t_S`.
fn times(v: &serde_json::Value) -> Vec<f64> {
    v["trajectory"].as_array().unwrap().iter().map(|e| e["t"].as_f64().unwrap()).collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) || a == b
}

/// VE (σ_min = 0.01, σ_max = 50, defaults), DDIM η = 0, 20 uniform steps to ε = 0 (gaussian-error's
/// default). Independent: DDIM on a path with a = 1 is `x_s = x̂₀ + (b_s/b_t)(x − x̂₀)`, and for
/// centred data of variance λ, `x̂₀ = λ x/(λ + b_t²)`, so each step multiplies the variance by
/// `((λ + b_s b_t)/(λ + b_t²))²`; `b_t² = σ(t)² − σ_min²`, `σ(t) = σ_min (σ_max/σ_min)^t`; the
/// standard start is N(0, σ_max²). Also bit for bit `SpectralProblem::scheme_law` (lanes are sorted:
/// the file's order is not).
#[test]
fn ve_ddim_law_matches_a_scalar_recurrence_and_the_library() {
    let dir = scratch("paths-ve");
    let spectrum = [2.0, 0.0, 0.5, 1.0, 0.25];
    let s = write(&dir, "s.txt", &spectrum.map(|v| v.to_string()).join("\n"));
    let v = ok_json(&["gaussian-error", "--spectrum", &s, "--process", "ve", "--sampler", "ddim", "--steps", "20", "--law"]);
    let variances = numbers(&v["law"]["variances"]);
    assert_eq!(variances.len(), 5);
    let (smin, smax) = (0.01f64, 50.0f64);
    let b = |t: f64| ((smin * (smax / smin).powf(t)).powi(2) - smin * smin).sqrt();
    for (i, &lam) in spectrum.iter().enumerate() {
        let mut var = smax * smax;
        for k in 0..20 {
            let (t, s) = (1.0 - k as f64 / 20.0, 1.0 - (k + 1) as f64 / 20.0);
            let c = (lam + b(s) * b(t)) / (lam + b(t) * b(t));
            var *= c * c;
        }
        assert!(close(variances[i], var, 1e-10), "λ = {lam}: CLI {} vs recurrence {var}", variances[i]);
    }
    // The library, same schedule: per-lane laws of the sorted spectrum [0, 0.25, 0.5, 1, 2].
    let ve = Process::Ve(Ve::default());
    let schedule = Schedule::grid(ve, TimeGrid::uniform(&ve, 20, 0.0).unwrap());
    let problem = SpectralProblem::centred(spectrum.to_vec()).unwrap();
    let (_, lanes) =
        problem.scheme_law(&Builtin::from_name("ddim").unwrap(), &schedule, Init::Standard, &SpectralScore::Exact).unwrap().unwrap();
    let order = [4, 0, 2, 3, 1]; // lane of each file entry
    for i in 0..5 {
        assert_eq!(variances[i], lanes[order[i]], "coordinate {i}");
    }
    let report = problem.scheme(&Builtin::from_name("ddim").unwrap(), &schedule, Init::Standard, &SpectralScore::Exact, false).unwrap();
    assert_eq!(v["w2"].as_f64(), Some(report.w2));
    // The law is the one behind "w2": W2² = Σ (√v_i − √λ_i)² for centred diagonal laws.
    let w2: f64 = spectrum.iter().zip(&variances).map(|(l, v)| (v.sqrt() - l.sqrt()).powi(2)).sum::<f64>().sqrt();
    assert!(close(w2, report.w2, 1e-12), "{w2} vs {}", report.w2);
}

/// EDM defaults (σ_max = 80, σ_min = 0.002, ρ = 7, karras): `--steps 18` is EDM's num_steps, the 18
/// σ values of Karras et al. (2022) eq. 5, `σ_i = (σ_max^{1/ρ} + i/(N−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ`,
/// then σ = 0. Euler on EDM (their Algorithm 1 without the 2nd-order correction) multiplies the
/// variance of a centred coordinate λ by `(1 + (σ_{i+1} − σ_i) σ_i/(λ + σ_i²))²` per step, from the
/// standard start N(0, σ_max²).
#[test]
fn edm_steps_are_num_steps_karras_then_zero() {
    let dir = scratch("paths-edm");
    let spectrum = [0.25, 0.5, 1.0, 2.0];
    let s = write(&dir, "s.txt", &spectrum.map(|v| v.to_string()).join("\n"));
    let v =
        ok_json(&["gaussian-error", "--spectrum", &s, "--process", "edm", "--sampler", "euler", "--steps", "18", "--trajectory", "--law"]);
    let (n, smin, smax, rho) = (18usize, 0.002f64, 80.0f64, 7.0f64);
    let mut sigma: Vec<f64> = (0..n)
        .map(|i| (smax.powf(1.0 / rho) + i as f64 / (n - 1) as f64 * (smin.powf(1.0 / rho) - smax.powf(1.0 / rho))).powf(rho))
        .collect();
    sigma.push(0.0);
    let t = times(&v);
    assert_eq!(t.len(), 19, "18 σ values then 0: {t:?}");
    assert!(t.iter().zip(&sigma).all(|(a, b)| close(*a, *b, 1e-13)), "{t:?}\nvs\n{sigma:?}");
    assert_eq!((t[0], t[17], t[18]), (80.0, 0.002, 0.0));
    assert_eq!(v["score_evals"].as_u64(), Some(18));
    let variances = numbers(&v["law"]["variances"]);
    for (j, &lam) in spectrum.iter().enumerate() {
        let mut var = smax * smax;
        for i in 0..n {
            let c = 1.0 + (sigma[i + 1] - sigma[i]) * sigma[i] / (lam + sigma[i] * sigma[i]);
            var *= c * c;
        }
        assert!(close(variances[j], var, 1e-10), "λ = {lam}: CLI {} vs recurrence {var}", variances[j]);
    }
    // The same schedule through the library.
    let edm = Process::Edm(Edm::default());
    let schedule = Schedule::grid(edm, TimeGrid::karras(&edm, 17, 0.002, 7.0).unwrap().with_final_zero());
    let problem = SpectralProblem::centred(spectrum.to_vec()).unwrap();
    let (_, lanes) = problem.scheme_law(&Euler, &schedule, Init::Standard, &SpectralScore::Exact).unwrap().unwrap();
    assert_eq!(variances, lanes);
}

/// The other grids against their formulas (DPM-Solver's time_quadratic; k-diffusion's
/// get_sigmas_exponential / get_sigmas_polyexponential; Karras eq. 5 on VE through
/// `t = log(sqrt(σ² + σ_min²)/σ_min)/log(σ_max/σ_min)`, the inverse of VE's `σ = b/a`), and the
/// default early stops: 0 for gaussian-error, σ_min = 0.002 on EDM.
#[test]
fn grids_follow_their_formulas() {
    let dir = scratch("paths-grids");
    let s = write(&dir, "s.txt", "0.5\n1\n");
    let traj = |extra: &[&str]| {
        let mut args = vec!["gaussian-error", "--spectrum", &s, "--sampler", "euler", "--trajectory"];
        args.extend_from_slice(extra);
        times(&ok_json(&args))
    };
    let check = |got: Vec<f64>, want: Vec<f64>, what: &str| {
        assert_eq!(got.len(), want.len(), "{what}: {got:?}");
        assert!(got.iter().zip(&want).all(|(a, b)| close(*a, *b, 1e-12)), "{what}: {got:?}\nvs\n{want:?}");
    };
    let (lo, hi) = (0.002f64.ln(), 80f64.ln());
    let exp: Vec<f64> = (0..5).map(|k| (hi + k as f64 / 4.0 * (lo - hi)).exp()).chain([0.0]).collect();
    check(traj(&["--process", "edm", "--grid", "exponential", "--steps", "5"]), exp, "edm exponential");
    let poly: Vec<f64> = (0..5).map(|k| (lo + (1.0 - k as f64 / 4.0).powi(2) * (hi - lo)).exp()).chain([0.0]).collect();
    check(traj(&["--process", "edm", "--grid", "polyexponential", "--rho", "2", "--steps", "5"]), poly, "edm polyexponential ρ = 2");
    check(traj(&["--process", "edm", "--grid", "uniform", "--eps", "0", "--steps", "4"]), vec![80.0, 60.0, 40.0, 20.0, 0.0], "edm ε = 0");
    // t_k = T − (T − ε) k/S, whose last point is ε itself (rounding aside: the grid sets t_S = ε).
    let uniform: Vec<f64> = (0..5).map(|k| if k == 4 { 0.002 } else { 80.0 - (80.0 - 0.002) * k as f64 / 4.0 }).chain([0.0]).collect();
    check(traj(&["--process", "edm", "--grid", "uniform", "--steps", "5"]), uniform, "edm uniform to σ_min");
    let quad: Vec<f64> = (0..5).map(|k| (1.0 - k as f64 / 4.0).powi(2)).collect();
    check(traj(&["--process", "vp", "--grid", "quadratic", "--steps", "4"]), quad, "vp quadratic, default ε = 0");
    let (smin, smax, rho, eps) = (0.01f64, 50.0f64, 3.0f64, 1e-3f64);
    let sig = |t: f64| ((smin * (smax / smin).powf(t)).powi(2) - smin * smin).sqrt();
    let time = |s: f64| ((s * s + smin * smin).sqrt() / smin).ln() / (smax / smin).ln();
    let (a, b) = (sig(1.0).powf(1.0 / rho), sig(eps).powf(1.0 / rho));
    let ve: Vec<f64> = (0..=6).map(|k| time((a + k as f64 / 6.0 * (b - a)).powf(rho))).collect();
    check(traj(&["--process", "ve", "--grid", "karras", "--rho", "3", "--steps", "6", "--eps", "1e-3"]), ve, "ve karras ρ = 3");
}

/// `--law` with a mean and a covariance is `output_law` with the start and score of
/// `DenseProblem::scheme` (here the exact start p_T and a scaled score), bit for bit; its Bures
/// distance to the data is the printed "w2".
#[test]
fn dense_law_is_the_library_output_law() {
    let dir = scratch("paths-dense");
    let m = write(&dir, "m.csv", "1,-2\n");
    let c = write(&dir, "c.csv", "1,0.5\n0.5,2\n");
    let v = ok_json(&[
        "gaussian-error",
        "--mean",
        &m,
        "--covariance",
        &c,
        "--process",
        "vp-cosine",
        "--sampler",
        "rk4",
        "--steps",
        "12",
        "--eps",
        "1e-3",
        "--init",
        "exact",
        "--score-scale",
        "0.05",
        "--law",
    ]);
    let target = DenseGaussian::new(vec![1.0, -2.0], faer::mat![[1.0, 0.5], [0.5, 2.0]]).unwrap();
    let p = Process::VpCosine(VpCosine::default());
    let schedule = Schedule::grid(p, TimeGrid::uniform(&p, 12, 1e-3).unwrap());
    let start = LawStart::Law(target.marginal(&schedule.point(0).unwrap()));
    let score = gmdiff::solvers::ScaledScore::new(target.clone(), 0.05);
    let law = output_law(&Builtin::from_name("rk4").unwrap(), &schedule, &score, start, |_, _| Ok(())).unwrap().law;
    let mean = law.mean.unwrap();
    let Op::Full(Dense(cov)) = law.cov else { panic!("a full covariance") };
    assert_eq!(numbers(&v["law"]["mean"]), mean);
    let rows: Vec<Vec<f64>> = v["law"]["covariance"].as_array().unwrap().iter().map(numbers).collect();
    for i in 0..2 {
        for j in 0..2 {
            assert_eq!(rows[i][j], cov[(i, j)], "covariance[{i}][{j}]");
        }
    }
    let sym = faer::Mat::from_fn(2, 2, |i, j| 0.5 * (cov[(i, j)] + cov[(j, i)]));
    let data = faer::mat![[1.0, 0.5], [0.5, 2.0]];
    let w2 = gmdiff::metrics::bures_w2(&mean, sym.as_ref(), &[1.0, -2.0], data.as_ref()).unwrap();
    assert!(close(w2, v["w2"].as_f64().unwrap(), 1e-12), "{w2} vs {}", v["w2"]);
}

/// The corrector settings reach the sampler: gaussian-error's w2 is the library's for the struct
/// written here, and the score evaluations follow the corrector schedule (after every `every`-th of
/// the 30 steps, not the last): dpum 30 + 14·2·3 = 114, dpom 30 + 9·2 = 48.
#[test]
fn corrector_settings_reach_the_sampler() {
    let dir = scratch("paths-corrector");
    let s = write(&dir, "s.txt", "0.1\n0.5\n1\n3\n");
    let problem = SpectralProblem::centred(vec![0.1, 0.5, 1.0, 3.0]).unwrap();
    let vp = Process::default();
    let schedule = Schedule::grid(vp, TimeGrid::uniform(&vp, 30, 1e-3).unwrap());
    let base = ["gaussian-error", "--spectrum", &s, "--steps", "30", "--eps", "1e-3"];
    let run = |extra: &[&str]| ok_json(&[&base[..], extra].concat());
    let dpum = Dpum(Underdamped { every: 2, iterations: 3, step_scale: 0.1, friction: 1.5 });
    let v = run(&[
        "--sampler",
        "dpum",
        "--corrector-every",
        "2",
        "--corrector-iterations",
        "3",
        "--corrector-step-scale",
        "0.1",
        "--friction",
        "1.5",
    ]);
    let lib = problem.scheme(&dpum, &schedule, Init::Standard, &SpectralScore::Exact, false).unwrap();
    assert_eq!((v["w2"].as_f64(), v["score_evals"].as_u64()), (Some(lib.w2), Some(114)));
    let default = problem.scheme(&Dpum::default(), &schedule, Init::Standard, &SpectralScore::Exact, false).unwrap();
    assert_ne!(lib.w2, default.w2, "the settings must change the result");
    let dpom = Dpom(Langevin { every: 3, iterations: 2, step_scale: 0.05 });
    let v = run(&["--sampler", "dpom", "--corrector-every", "3", "--corrector-iterations", "2"]);
    let lib = problem.scheme(&dpom, &schedule, Init::Standard, &SpectralScore::Exact, false).unwrap();
    assert_eq!((v["w2"].as_f64(), v["score_evals"].as_u64()), (Some(lib.w2), Some(48)));
    // The same options in `sample`, bit for bit against the library's particles.
    let mix = write(&dir, "m.json", r#"{"weights":[0.3,0.7],"means":[[0,1],[2,-1]],"covariances":[[[1,0.2],[0.2,0.5]],1]}"#);
    let r = gmdiff(&[
        "sample",
        "--mixture",
        &mix,
        "--sampler",
        "dpom",
        "--corrector-every",
        "3",
        "--corrector-iterations",
        "2",
        "--steps",
        "30",
        "--count",
        "64",
        "--seed",
        "5",
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let mixture: gmdiff::mixture::GaussianMixture = serde_json::from_str(&std::fs::read_to_string(&mix).unwrap()).unwrap();
    let schedule = Schedule::grid(vp, TimeGrid::uniform(&vp, 30, 1e-3).unwrap()); // sample's default ε = 1e-3
    let x = sample(&dpom, &schedule, &mixture, Start::Standard, 64, 5).unwrap().samples;
    let csv = parse_csv(&r.stdout);
    assert!(csv.iter().enumerate().all(|(i, row)| row[0] == x[(i, 0)] && row[1] == x[(i, 1)]));
}

/// `sample --process flow --sampler euler` starts at t = 1 (a = 0, the standard start N(0, 1)),
/// where the velocity is `x − x̂₀` with `x̂₀ = m`. Independent: on N(m, v₀) the flow velocity is
/// `(x − x̂₀)/t` with `x̂₀ = m + k(x − (1 − t)m)`, `k = (1 − t)v₀/((1 − t)²v₀ + t²)`; Euler from t to
/// s = t − h is affine in x, so the output law is Gaussian with a mean and variance computed here;
/// 10⁵ samples agree within 5 standard errors. The CLI is also the library's `sample`, bit for bit.
#[test]
fn flow_euler_sample_starts_at_t_one() {
    let dir = scratch("paths-flow");
    let (m, v0, steps, eps, n) = (1.5f64, 0.5f64, 8usize, 1e-3f64, 100_000usize);
    let mix = write(&dir, "m.json", &format!(r#"{{"weights":[1],"means":[[{m}]],"covariances":[{v0}]}}"#));
    let out = dir.join("x.npy");
    let r = gmdiff(&[
        "sample",
        "--mixture",
        &mix,
        "--process",
        "flow",
        "--sampler",
        "euler",
        "--steps",
        &steps.to_string(),
        "--count",
        &n.to_string(),
        "--seed",
        "11",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let x = gmdiff::io::read_points(&out).unwrap();
    let (mut mean, mut var) = (0.0f64, 1.0f64);
    for k in 0..steps {
        let t = 1.0 - (1.0 - eps) * k as f64 / steps as f64;
        let s = if k + 1 == steps { eps } else { 1.0 - (1.0 - eps) * (k + 1) as f64 / steps as f64 };
        let h = t - s;
        let kk = (1.0 - t) * v0 / ((1.0 - t).powi(2) * v0 + t * t);
        let (alpha, beta) = (1.0 - h * (1.0 - kk) / t, h * m * (1.0 - kk * (1.0 - t)) / t);
        mean = alpha * mean + beta;
        var *= alpha * alpha;
    }
    let nf = n as f64;
    let xm = (0..n).map(|i| x[(i, 0)]).sum::<f64>() / nf;
    let xv = (0..n).map(|i| (x[(i, 0)] - xm).powi(2)).sum::<f64>() / (nf - 1.0);
    let (zm, zv) = ((xm - mean).abs() / (var / nf).sqrt(), (xv - var).abs() / (var * (2.0 / (nf - 1.0)).sqrt()));
    assert!(zm < 5.0 && zv < 5.0, "mean {xm} vs {mean} ({zm:.2} se), variance {xv} vs {var} ({zv:.2} se)");
    let mixture: gmdiff::mixture::GaussianMixture = serde_json::from_str(&std::fs::read_to_string(&mix).unwrap()).unwrap();
    let flow = Process::Flow(Flow::default());
    assert_eq!(flow.horizon(), 1.0);
    let lib =
        sample(&Euler, &Schedule::grid(flow, TimeGrid::uniform(&flow, steps, eps).unwrap()), &mixture, Start::Standard, n, 11).unwrap();
    assert_eq!(lib.samples, x);
}

/// `sample --process edm`: the default grid is karras with EDM's num_steps and the start N(0, 80²):
/// the library's particles on that schedule, bit for bit. The exact sde/ode of `gaussian-error` on
/// EDM end at σ = 0 (every EDM run does).
#[test]
fn edm_sample_and_exact_dynamics() {
    let dir = scratch("paths-edm-sample");
    let mix = write(&dir, "m.json", r#"{"weights":[0.5,0.5],"means":[[-2],[3]],"covariances":[0.5,1]}"#);
    let r =
        gmdiff(&["sample", "--mixture", &mix, "--process", "edm", "--sampler", "heun", "--steps", "18", "--count", "100", "--seed", "3"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let mixture: gmdiff::mixture::GaussianMixture = serde_json::from_str(&std::fs::read_to_string(&mix).unwrap()).unwrap();
    let edm = Process::Edm(Edm::default());
    let schedule = Schedule::grid(edm, TimeGrid::karras(&edm, 17, 0.002, 7.0).unwrap().with_final_zero());
    let x = sample(&Heun, &schedule, &mixture, Start::Standard, 100, 3).unwrap().samples;
    let csv = parse_csv(&r.stdout);
    assert!(csv.iter().enumerate().all(|(i, row)| row[0] == x[(i, 0)]));
    let s = write(&dir, "s.txt", "0.5\n2\n");
    let problem = SpectralProblem::centred(vec![0.5, 2.0]).unwrap();
    for (name, dynamics) in [("ode", Dynamics::Ode), ("sde", Dynamics::Sde)] {
        let v = ok_json(&["gaussian-error", "--spectrum", &s, "--process", "edm", "--sampler", name]);
        let lib = problem.continuous(dynamics, &edm, 0.0, Init::Standard, None).unwrap();
        assert_eq!(v["w2"].as_f64(), Some(lib.w2), "{name}");
    }
}
