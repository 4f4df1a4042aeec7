//! `gmdiff gaussian-error` on the inputs of issues 14 and 15, against values computed here from the
//! samplers' published formulas (never from gmdiff's own code):
//!
//! * fault 3: the KL of DDIM / DPM-Solver++(2M) at `ε = 0` on a singular spectrum is finite (over
//!   the support) at every step count, in the spectral and the dense route;
//! * fault 7: trajectory entry `k` is `W2(X_k, p_{t_k})`, the last one at `t = ε`, with its time;
//! * issue 15: `--sampler` (with `--scheme` as an alias) and `--eta`.
//!
//! Oracles, per eigen-coordinate of variance `λ` (centred data, exact score
//! `s_t(x) = −x/(a_t² λ + b_t²)`, start `N(0, 1)`): the VP process `B(t) = 0.1 t + 9.95 t²`,
//! `a = e^{−B/2}`, `b = sqrt(1 − a²)`, `β̃ = β/2 = 0.05 + 9.95 t`, on the grid `t_k = 1 − k (1 − ε)/S`;
//!
//! * DDIM(η) (Song et al. 2021, eq. 12): `v ← m² v + σ²`, `m = (a_s a_t λ + sqrt(b_s² − σ²) b_t)/(a_t² λ + b_t²)`,
//!   `σ = η sqrt(b_s²/b_t² (1 − a_t²/a_s²))`;
//! * DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2; first order on a last step to `b = 0`);
//! * flow-ODE Euler: `v ← (1 + h β̃_t (1 − 1/λ_t))² v`, `λ_t = a_t² λ + b_t²`, `h = t − s`;
//! * the exact flow ODE from `N(0, I)`: `v(t) = λ_t/λ_T` (Pierret–Galerne, THEORY §3).
//!
//! KL over the support: `Σ_{λ > 0} ½ (v/λ − 1 − ln(v/λ))`; W2 between diagonal Gaussians:
//! `sqrt(Σ (√v − √u)²)`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gmdiff")).arg("gaussian-error").args(args).output().unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn number(v: &serde_json::Value) -> f64 {
    if v == "inf" { f64::INFINITY } else { v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")) }
}

struct Dir(PathBuf);
impl Dir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("gmdiff-gerr-faults-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn vp(t: f64) -> (f64, f64) {
    let big_b = 0.1 * t + 9.95 * t * t;
    ((-0.5 * big_b).exp(), (-(-big_b).exp_m1()).sqrt())
}

fn grid(steps: usize, eps: f64) -> Vec<f64> {
    (0..=steps).map(|k| if k == steps { eps } else { 1.0 - (1.0 - eps) * k as f64 / steps as f64 }).collect()
}

fn ddim_variance(lam: f64, steps: usize, eta: f64) -> f64 {
    let t = grid(steps, 0.0);
    let mut v = 1.0;
    for k in 0..steps {
        let ((at, bt), (as_, bs)) = (vp(t[k]), vp(t[k + 1]));
        let sigma = eta * (bs * bs / (bt * bt) * (1.0 - at * at / (as_ * as_))).sqrt();
        let m = (as_ * at * lam + (bs * bs - sigma * sigma).max(0.0).sqrt() * bt) / (at * at * lam + bt * bt);
        v = m * m * v + sigma * sigma;
    }
    v
}

fn dpmpp2m_variance(lam: f64, steps: usize) -> f64 {
    let t = grid(steps, 0.0);
    let log_snr = |(a, b): (f64, f64)| (a / b).ln();
    let x0_hat = |(a, b): (f64, f64)| a * lam / (a * a * lam + b * b);
    let (mut x, mut d_prev) = (1.0, 0.0);
    for k in 0..steps {
        let (ct, cs) = (vp(t[k]), vp(t[k + 1]));
        let d = x0_hat(ct) * x;
        x = if cs.1 == 0.0 {
            cs.0 * d
        } else {
            let h = log_snr(cs) - log_snr(ct);
            let big_d = if k == 0 {
                d
            } else {
                let r = (log_snr(ct) - log_snr(vp(t[k - 1]))) / h;
                (1.0 + 0.5 / r) * d - 0.5 / r * d_prev
            };
            cs.1 / ct.1 * x - cs.0 * (-h).exp_m1() * big_d
        };
        d_prev = d;
    }
    x * x
}

fn kl_over_support(spectrum: &[f64], variance: impl Fn(f64) -> f64) -> f64 {
    spectrum.iter().filter(|&&l| l > 0.0).map(|&l| 0.5 * (variance(l) / l - 1.0 - (variance(l) / l).ln())).sum()
}

/// The drift of two f64 computations of one KL over `d` coordinates (derivation in
/// `crates/gaussian/tests/support.rs`, `kl_tolerance`): variances to δ = 1e-11 relative.
fn kl_close(x: f64, truth: f64, d: usize) -> bool {
    let d = d as f64;
    (x - truth).abs() <= 1e-11 * (truth + 14.0 * (d * truth).sqrt()) + 1e-14 * d
}

fn cifar() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/data/cifar10_cov_eigenvalues.npy")
}

#[test]
fn fault_3_the_issue_command_gives_the_kl_over_the_support() {
    let dir = Dir::new("012");
    let s = dir.file("s.txt", "0\n1\n2\n");
    // The issue's command, verbatim (with the old flag name): it printed "kl": "inf".
    let (code, out, err) = run(&["--spectrum", &s, "--scheme", "ddim", "--steps", "50", "--eps", "0"]);
    assert_eq!(code, Some(0), "{err}");
    let truth = kl_over_support(&[1.0, 2.0], |l| ddim_variance(l, 50, 0.0));
    // The same recurrence in 50-digit arithmetic (mpmath) gives 0.00237116369972795041...
    assert!((truth - 0.0023711636997279504).abs() <= 1e-12 * truth);
    let kl = number(&json(&out)["kl"]);
    assert!(kl_close(kl, truth, 3), "{kl} vs {truth}");
    // The dense route of the same data agrees.
    let (m, c) = (dir.file("m.csv", "0,0,0\n"), dir.file("c.csv", "0,0,0\n0,1,0\n0,0,2\n"));
    for steps in [1usize, 2, 49, 50, 51, 100] {
        let n = steps.to_string();
        for (sampler, truth) in [
            ("ddim", kl_over_support(&[1.0, 2.0], |l| ddim_variance(l, steps, 0.0))),
            ("dpmpp2m", kl_over_support(&[1.0, 2.0], |l| dpmpp2m_variance(l, steps))),
        ] {
            for data in [vec!["--spectrum", s.as_str()], vec!["--mean", m.as_str(), "--covariance", c.as_str()]] {
                let (code, out, err) = run(&[&data[..], &["--sampler", sampler, "--steps", &n]].concat());
                assert_eq!(code, Some(0), "{err}");
                let kl = number(&json(&out)["kl"]);
                assert!(kl_close(kl, truth, 3), "{sampler} {steps} steps {data:?}: {kl} vs {truth}");
            }
        }
    }
    // A score error that touches the null direction takes the output off the support: ∞.
    let (_, out, _) = run(&["--spectrum", &s, "--sampler", "ddim", "--steps", "50", "--score-scale", "0.01"]);
    assert_eq!(json(&out)["kl"], "inf");
    // Euler at ε = 0 leaves a genuine variance on the null direction: ∞ as well.
    let (_, out, _) = run(&["--spectrum", &s, "--sampler", "euler", "--steps", "50"]);
    assert_eq!(json(&out)["kl"], "inf");
}

#[test]
fn fault_3_cifar10_at_49_and_50_steps() {
    // Before the fix: DDIM 2282.143307388669 at 49 steps and "inf" at 50 (DPM-Solver++(2M):
    // 2250.647014650799 and "inf").
    let spectrum = gmdiff::gaussian::read_spectrum(Path::new(cifar())).unwrap();
    for steps in [49usize, 50] {
        let n = steps.to_string();
        for (sampler, truth) in [
            ("ddim", kl_over_support(&spectrum, |l| ddim_variance(l, steps, 0.0))),
            ("dpmpp2m", kl_over_support(&spectrum, |l| dpmpp2m_variance(l, steps))),
        ] {
            let (code, out, err) = run(&["--spectrum", cifar(), "--sampler", sampler, "--steps", &n]);
            assert_eq!(code, Some(0), "{err}");
            let kl = number(&json(&out)["kl"]);
            assert!(kl_close(kl, truth, spectrum.len()), "{sampler} {steps} steps: {kl} vs {truth}");
        }
    }
}

#[test]
fn eta_reaches_ddim_and_is_refused_elsewhere() {
    let dir = Dir::new("eta");
    let s = dir.file("s.txt", "0 1 2");
    let (code, out, err) = run(&["--spectrum", &s, "--sampler", "ddim", "--eta", "0.5", "--steps", "50"]);
    assert_eq!(code, Some(0), "{err}");
    let truth = kl_over_support(&[1.0, 2.0], |l| ddim_variance(l, 50, 0.5));
    let kl = number(&json(&out)["kl"]);
    assert!(kl_close(kl, truth, 3), "{kl} vs {truth}");
    assert!((kl - kl_over_support(&[1.0, 2.0], |l| ddim_variance(l, 50, 0.0))).abs() > 1e-6, "η must change the law");
    for bad in
        [vec!["--sampler", "em", "--eta", "0.5"], vec!["--sampler", "ode", "--eta", "0.5"], vec!["--sampler", "ddim", "--eta", "1.5"]]
    {
        let (code, out, err) = run(&[&["--spectrum", s.as_str(), "--steps", "10"][..], &bad[..]].concat());
        assert_eq!(code, Some(2), "{bad:?}: {out}");
        assert!(err.starts_with("error: ") && err.lines().count() == 1, "{bad:?}: {err}");
    }
    let (_, _, err) = run(&["--spectrum", &s, "--steps", "10", "--sampler", "em", "--eta", "0.5"]);
    assert!(err.trim().starts_with("error: --eta applies only to --sampler ddim, euler-a") && err.trim().ends_with("not em"), "{err}");
    // --scheme is an alias of --sampler: same bytes out.
    let a = run(&["--spectrum", &s, "--sampler", "ddim", "--eta", "0.3", "--steps", "20", "--trajectory"]);
    let b = run(&["--spectrum", &s, "--scheme", "ddim", "--eta", "0.3", "--steps", "20", "--trajectory"]);
    assert_eq!(a, b);
}

/// `(t_k, W2_k)` of a CLI trajectory, in print order.
fn trajectory(out: &str) -> Vec<(f64, f64)> {
    json(out)["trajectory"].as_array().unwrap().iter().map(|e| (number(&e["t"]), number(&e["w2"]))).collect()
}

/// `sqrt(Σ (√v − √u)²)` between diagonal Gaussians.
fn w2_diag(v: &[f64], u: &[f64]) -> f64 {
    v.iter().zip(u).map(|(v, u)| (v.sqrt() - u.sqrt()).powi(2)).sum::<f64>().sqrt()
}

/// W2 of two f64 computations: `ΔW2 ≤ ½ δ sqrt(Σ v)` for variances to δ = 1e-11 relative (Σ v ≤ 30 here).
const W2_TOL: f64 = 3e-11;

#[test]
fn fault_7_trajectory_entry_k_is_iterate_k_against_p_t_k() {
    let dir = Dir::new("traj");
    let lams = [0.25, 1.0, 4.0];
    let s = dir.file("s.txt", "0.25 1 4");
    let forward = |t: f64| -> Vec<f64> {
        let (a, b) = vp(t);
        lams.iter().map(|l| a * a * l + b * b).collect()
    };
    let (steps, eps) = (20usize, 1e-3);
    let t = grid(steps, eps);
    // Flow-ODE Euler, from N(0, I).
    let mut v = vec![vec![1.0; 3]];
    for k in 0..steps {
        let (tk, h) = (t[k], t[k] - t[k + 1]);
        let beta_tilde = 0.05 + 9.95 * tk;
        let lt = forward(tk);
        v.push((0..3).map(|i| (1.0 + h * beta_tilde * (1.0 - 1.0 / lt[i])).powi(2) * v[k][i]).collect());
    }
    let (code, out, err) = run(&["--spectrum", &s, "--sampler", "euler", "--steps", "20", "--eps", "1e-3", "--trajectory"]);
    assert_eq!(code, Some(0), "{err}");
    let got = trajectory(&out);
    assert_eq!(got.len(), steps + 1);
    for (k, &(tk, w)) in got.iter().enumerate() {
        assert!((tk - t[k]).abs() <= 1e-15, "entry {k}: t = {tk} vs {}", t[k]);
        let truth = w2_diag(&v[k], &forward(t[k]));
        assert!((w - truth).abs() <= W2_TOL, "entry {k} (t = {tk}): {w} vs {truth}");
    }
    assert_eq!(got[steps].0, 1e-3, "the last entry is at t = ε");
    // The headline w2 stays against p_0 = N(0, diag(λ)).
    let w2 = number(&json(&out)["w2"]);
    assert!((w2 - w2_diag(&v[steps], &lams)).abs() <= W2_TOL);
    assert!((w2 - got[steps].1).abs() > 1e-6, "at ε = 1e-3 the last entry (vs p_ε) is not the headline (vs p_0)");

    // The exact flow ODE on the same grid: v(t) = λ_t/λ_T.
    let (_, out, _) = run(&["--spectrum", &s, "--sampler", "ode", "--steps", "20", "--eps", "1e-3", "--trajectory"]);
    let got = trajectory(&out);
    let top = forward(1.0);
    assert_eq!(got.len(), steps + 1);
    for (k, &(tk, w)) in got.iter().enumerate() {
        let u = forward(t[k]);
        let law: Vec<f64> = (0..3).map(|i| u[i] / top[i]).collect();
        let truth = w2_diag(&law, &u);
        assert!((tk - t[k]).abs() <= 1e-15 && (w - truth).abs() <= W2_TOL, "ode entry {k}: ({tk}, {w}) vs ({}, {truth})", t[k]);
    }
    let law: Vec<f64> = (0..3).map(|i| forward(eps)[i] / top[i]).collect();
    assert!((number(&json(&out)["w2"]) - w2_diag(&law, &lams)).abs() <= W2_TOL);

    // At ε = 0 the last iterate is the output and p_{t_S} = p_0: the last entry is the headline, bit
    // for bit (DDIM on a singular spectrum, whose null lane the support rule settles).
    let s0 = dir.file("s0.txt", "0 1 2");
    let (_, out, _) = run(&["--spectrum", &s0, "--sampler", "ddim", "--steps", "30", "--trajectory"]);
    let got = trajectory(&out);
    assert_eq!(got[0].0, 1.0);
    assert_eq!(got[30], (0.0, number(&json(&out)["w2"])));
}
