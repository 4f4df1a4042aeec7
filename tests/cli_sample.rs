//! MUST-SHOW for `gmdiff sample`: on a non-centred 3-D Gaussian target (a one-component mixture),
//! the sample mean and covariance of 200 000 samples from em, ddpm and euler match the *exact*
//! law of the discrete sampler (computed by running the same step code on Gaussian laws) within
//! 5 standard errors, for held-out step counts and early stops.
//!
//! Standard errors use Gaussian formulas with the exact covariance C:
//! se(mean_j) = sqrt(C_jj / n), se(cov_ij) = sqrt((C_ii C_jj + C_ij²) / n).

use gmdiff::solvers::{Builtin, Dense, DenseGaussian, LawStart, Op, Schedule, output_law};
use std::process::Command;

const MIXTURE: &str = r#"{"weights":[1.0],"means":[[1.5,-2.0,0.5]],
  "covariances":[[[1.0,0.3,0.1],[0.3,0.5,-0.1],[0.1,-0.1,0.2]]]}"#;

fn run_sampler(dir: &std::path::Path, sampler: &str, steps: usize, eps: f64, n: usize, seed: u64) -> faer::Mat<f64> {
    let mixture = dir.join("g3.json");
    std::fs::write(&mixture, MIXTURE).unwrap();
    let out = dir.join(format!("{sampler}.csv"));
    let status = Command::new(env!("CARGO_BIN_EXE_gmdiff"))
        .args(["sample", "--mixture"])
        .arg(&mixture)
        .args(["--sampler", sampler, "--steps", &steps.to_string(), "--count", &n.to_string()])
        .args(["--seed", &seed.to_string(), "--eps", &eps.to_string(), "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "gmdiff sample --sampler {sampler} failed");
    gmdiff::io::read_points_csv(&out).unwrap()
}

#[test]
fn sample_moments_match_the_exact_discrete_law() {
    let dir = std::env::temp_dir().join(format!("gmdiff-cli-sample-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = DenseGaussian::new(vec![1.5, -2.0, 0.5], faer::mat![[1.0, 0.3, 0.1], [0.3, 0.5, -0.1], [0.1, -0.1, 0.2]]).unwrap();
    let n = 200_000;
    // Held-out configurations: coarse grids where the discretisation bias is many standard
    // errors, so matching the exact *discrete* law (not the target) is a real check.
    for (sampler, steps, eps) in [("em", 37usize, 3e-3), ("ddpm", 29, 2e-2), ("euler", 17, 5e-3)] {
        let x = run_sampler(&dir, sampler, steps, eps, n, 2024);
        assert_eq!((x.nrows(), x.ncols()), (n, 3));
        let sched = Schedule::uniform_vp(steps, eps).unwrap();
        let law =
            output_law(&Builtin::from_name(sampler).unwrap(), &sched, &target, LawStart::<Dense>::Standard, |_, _| Ok(())).unwrap().law;
        let m = law.mean.unwrap();
        let Op::Full(Dense(c)) = law.cov else { panic!("dense covariance expected") };
        let nf = n as f64;
        let xm: Vec<f64> = (0..3).map(|j| (0..n).map(|i| x[(i, j)]).sum::<f64>() / nf).collect();
        let mut worst: f64 = 0.0;
        for j in 0..3 {
            let z = (xm[j] - m[j]).abs() / (c[(j, j)] / nf).sqrt();
            worst = worst.max(z);
            assert!(z < 5.0, "{sampler}: mean[{j}] = {} vs exact {} ({z:.2} se)", xm[j], m[j]);
        }
        for a in 0..3 {
            for b in 0..3 {
                let s = (0..n).map(|i| (x[(i, a)] - xm[a]) * (x[(i, b)] - xm[b])).sum::<f64>() / (nf - 1.0);
                let se = ((c[(a, a)] * c[(b, b)] + c[(a, b)] * c[(a, b)]) / nf).sqrt();
                let z = (s - c[(a, b)]).abs() / se;
                worst = worst.max(z);
                assert!(z < 5.0, "{sampler}: cov[{a},{b}] = {s} vs exact {} ({z:.2} se)", c[(a, b)]);
            }
        }
        // The target itself is far away in standard errors for these coarse grids (for euler and
        // ddpm), which shows the test resolves the discrete law rather than the target.
        println!("{sampler} (S = {steps}, ε = {eps}): worst deviation {worst:.2} se; exact mean {m:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sample_refuses_ddpm_with_ten_steps() {
    let dir = std::env::temp_dir().join(format!("gmdiff-cli-sample-ddpm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mixture = dir.join("g3.json");
    std::fs::write(&mixture, MIXTURE).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gmdiff"))
        .args(["sample", "--mixture"])
        .arg(&mixture)
        .args(["--sampler", "ddpm", "--steps", "10", "--count", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: DDPM step 0 has rate β_k = 1.99"), "{err}");
    assert!(out.stdout.is_empty());
    std::fs::remove_dir_all(&dir).ok();
}
