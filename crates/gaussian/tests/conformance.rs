//! Scheduler conformance (issue 16): the report's numbers against independent routes.
//!
//! The agreement of the exact laws with diffusers' own schedulers (particles) is
//! `crates/solvers/tests/diffusers_laws.rs`; here, the report: diffusers' DDIM arithmetic written
//! out in the test (Song et al. 2021, eq. 12 with η = 0, diffusers' `prev_timestep = t − ⌊N/n⌋`) on a
//! one-dimensional Gaussian, whose law is a scalar affine recursion, and the anomaly of
//! huggingface/diffusers issue 12633 (DDIM `linspace`).

use gmdiff_gaussian::{DenseProblem, conformance};
use gmdiff_solvers::diffusers::{AnomalyKind, SchedulerConfig};

fn ddim(spacing: &str) -> SchedulerConfig {
    let text = format!(
        r#"{{"_class_name":"DDIMScheduler","num_train_timesteps":1000,"beta_schedule":"scaled_linear","beta_start":0.00085,"beta_end":0.012,"clip_sample":false,"set_alpha_to_one":false,"timestep_spacing":"{spacing}"}}"#
    );
    SchedulerConfig::from_json(&text).unwrap().config
}

/// W2 between N(m1, v1) and N(m2, v2) in one dimension.
fn w2_1d(m1: f64, v1: f64, m2: f64, v2: f64) -> f64 {
    ((m1 - m2).powi(2) + (v1.sqrt() - v2.sqrt()).powi(2)).sqrt()
}

/// diffusers' DDIM step on N(m, v) with the exact ε of N(mu, s2): x0 = (x − sqrt(1−ᾱ) ε)/sqrt(ᾱ),
/// x' = sqrt(ᾱ') x0 + sqrt(1 − ᾱ') ε, with ε = sqrt(1−ᾱ) (x − sqrt(ᾱ) mu)/(ᾱ s2 + 1 − ᾱ).
fn ddim_law(timesteps: &[usize], stride: usize, bars: &[f32], final_bar: f64, mu: f64, s2: f64) -> (f64, f64) {
    let (mut m, mut v) = (0.0, 1.0);
    for &t in timesteps {
        let ab = bars[t] as f64;
        let ab_prev = if t >= stride { bars[t - stride] as f64 } else { final_bar };
        let k = (1.0 - ab).sqrt() / (ab * s2 + 1.0 - ab); // ε = k (x − sqrt(ab) mu)
        // x' = A x + B
        let c_eps = (1.0 - ab_prev).sqrt() - (ab_prev / ab).sqrt() * (1.0 - ab).sqrt();
        let a = (ab_prev / ab).sqrt() + c_eps * k;
        let b = -c_eps * k * ab.sqrt() * mu;
        m = a * m + b;
        v *= a * a;
    }
    (m, v)
}

#[test]
fn ddim_report_matches_the_ddim_recursion_and_prices_the_linspace_off_by_one() {
    let (mu, s2) = (0.7, 0.4);
    let target = DenseProblem::new(vec![mu], faer::mat![[s2]]).unwrap();
    for n in [10, 25, 50] {
        let mut w2 = Vec::new();
        for spacing in ["linspace", "trailing"] {
            let c = ddim(spacing);
            let bars = c.alphas_cumprod().unwrap();
            let ts: Vec<usize> = c.timesteps(n).unwrap().iter().map(|&t| t as usize).collect();
            let (m, v) = ddim_law(&ts, 1000 / n, &bars, bars[0] as f64, mu, s2);
            let expected = w2_1d(m, v, mu, s2);
            let r = conformance(&c, n, &target).unwrap();
            assert!((r.error.w2 - expected).abs() <= 1e-10 * expected.max(1.0), "{spacing} n={n}: {} vs {expected}", r.error.w2);
            w2.push(r.error.w2);
            let mismatch = r.anomalies.iter().find(|a| a.anomaly.kind == AnomalyKind::StepMismatch);
            if spacing == "linspace" {
                // diffusers' linspace timesteps (round(linspace(0, 999, n)), its own table in
                // tests/peer/fixtures/schedulers/DDIMScheduler.json) step by 999/(n−1), not by ⌊1000/n⌋.
                let a = mismatch.expect("the linspace off-by-one is reported");
                let (w2_fixed, _) = a.fixed.expect("its trailing fix is measured");
                assert_eq!(a.anomaly.fix.as_ref().unwrap().0, "timestep_spacing = trailing");
                // The fix's cost is the trailing run's W2, by the same recursion.
                let t = ddim("trailing");
                let tt: Vec<usize> = t.timesteps(n).unwrap().iter().map(|&x| x as usize).collect();
                let (mt, vt) = ddim_law(&tt, 1000 / n, &bars, bars[0] as f64, mu, s2);
                assert!((w2_fixed - w2_1d(mt, vt, mu, s2)).abs() <= 1e-10);
            } else {
                assert!(mismatch.is_none(), "trailing spacing steps exactly by ⌊N/n⌋ for n | N");
            }
            // set_alpha_to_one = false: the last step ends at ᾱ_0 < 1.
            assert!(r.anomalies.iter().any(|a| a.anomaly.kind == AnomalyKind::EndAboveZero));
        }
        println!("n = {n}: DDIM W2 linspace {:.5}, trailing {:.5}", w2[0], w2[1]);
    }
}
