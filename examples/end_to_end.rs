//! End to end through the `gmdiff` facade: a mixture from JSON, its diffused score, samples from
//! two samplers, and their distance to the target.
//!
//! 1. Read `p = Σ_i w_i N(μ_i, Σ_i)` from the JSON format of the CLI (full, diagonal and isotropic
//!    covariances), and print `log p_t` and `∇ log p_t` at a point for a few `t` of the VP linear
//!    process (closure lemma: `p_t = Σ_i w_i N(a_t μ_i, a_t² Σ_i + b_t² I)`).
//! 2. Sample it with DDPM (200 uniform steps) and with DPM-Solver++(2M) (20 log-SNR-uniform
//!    steps), both from `N(0, I)` down to `ε = 10⁻³` with the exact score.
//! 3. Compare each output with exact samples of `p`: exact empirical W2 (network simplex),
//!    against the floor W2 between two exact samples, and an MMD permutation test (first 500
//!    points of each, 199 permutations).
//! 4. Print the first samples as the CLI would write them (CSV, round-trippable decimals).
//!
//! Run: `cargo run --release -p gmdiff --example end_to_end`
use gmdiff::metrics::{Bandwidth, TwoSampleStatistic, permutation_test, w2_exact};
use gmdiff::mixture::GaussianMixture;
use gmdiff::process::{GaussianPath, Process, TimeGrid, VpLinear};
use gmdiff::solvers::{Builtin, Ddpm, DpmSolver2M, Schedule, Start, sample};

const MIXTURE: &str = r#"{
    "weights": [0.45, 0.35, 0.2],
    "means": [[-2.0, 0.0], [2.0, 1.0], [0.0, -2.5]],
    "covariances": [[[1.0, 0.6], [0.6, 0.8]], [0.3, 1.5], 0.5]
}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let p: GaussianMixture = serde_json::from_str(MIXTURE)?;
    let m = p.mean();
    println!("mixture: k = {}, d = {}, mean ({:.4}, {:.4}), E‖x‖² = {:.4}", p.len(), p.dim(), m[0], m[1], p.second_moment());
    // By hand from the JSON: m = Σ w_i μ_i = (−0.9 + 0.7 + 0, 0 + 0.35 − 0.5) = (−0.2, −0.15) and
    // E‖x‖² = Σ w_i (‖μ_i‖² + tr Σ_i) = 0.45·(4 + 1.8) + 0.35·(5 + 1.8) + 0.2·(6.25 + 1.0) = 6.44.
    // Only rounding separates them (sums of a few terms of size O(1)).
    assert!((m[0] + 0.2).abs() < 1e-12 && (m[1] + 0.15).abs() < 1e-12, "mixture mean {m:?}, expected (−0.2, −0.15)");
    assert!((p.second_moment() - 6.44).abs() < 1e-12, "E‖x‖² = {}, expected 6.44", p.second_moment());

    let vp = VpLinear::default();
    let x = [0.5, -0.5];
    for t in [0.0, 0.1, 0.5, 1.0] {
        let c = vp.at(t)?;
        let density = p.diffused(c.a, c.b)?.density()?;
        let s = density.score(&x)?;
        // The score against the central difference of log p_t (h = 10⁻⁵: truncation O(h²) ≈ 10⁻¹⁰
        // times third derivatives of size O(10), rounding ε_mach |log p_t| / h ≈ 10⁻¹⁰).
        let h = 1e-5;
        for j in 0..2 {
            let (mut up, mut down) = (x, x);
            up[j] += h;
            down[j] -= h;
            let fd = (density.logpdf(&up)? - density.logpdf(&down)?) / (2.0 * h);
            assert!((fd - s[j]).abs() < 1e-6, "t = {t}: score[{j}] = {} but central difference {fd}", s[j]);
        }
        println!("  t = {t:<4} log p_t({}, {}) = {:>8.4}   ∇ log p_t = ({:>8.4}, {:>8.4})", x[0], x[1], density.logpdf(&x)?, s[0], s[1]);
    }

    let (n, eps, seed) = (1500, 1e-3, 11);
    let reference = p.sample(n, 1);
    let floor = w2_exact(p.sample(n, 2).as_ref(), reference.as_ref())?;
    println!("\n{n} samples each; W2 between two exact samples (floor) = {floor:.4}");

    let process = Process::Vp(vp);
    let runs = [
        ("ddpm, 200 uniform steps", Builtin::Ddpm(Ddpm::default()), Schedule::uniform_vp(200, eps)?),
        (
            "dpmpp2m, 20 log-SNR steps",
            Builtin::DpmSolver2M(DpmSolver2M::default()),
            Schedule::grid(process, TimeGrid::log_snr_uniform(&process, 20, eps)?),
        ),
    ];
    let mut first = None;
    for (label, sampler, schedule) in runs {
        let out = sample(&sampler, &schedule, &p, Start::Standard, n, seed)?;
        let w2 = w2_exact(out.samples.as_ref(), reference.as_ref())?;
        let (a, b) = (out.samples.as_ref().subrows(0, 500), reference.as_ref().subrows(0, 500));
        let test = permutation_test(a, b, TwoSampleStatistic::Mmd2(Bandwidth::Median), 199, 1)?;
        println!("  {label:<26} NFE = {:>3}  W2 = {w2:.4}  MMD² = {:.2e} (p = {:.3})", out.score_evals, test.statistic, test.p_value);
        // A two-sample test at level 1%: a sampler run with the exact score must not be told apart
        // from exact samples (under that hypothesis the p-value is uniform, so p ≤ 0.01 has chance 1%).
        assert!(test.p_value > 0.01, "{label}: MMD test rejects at level 1% (p = {})", test.p_value);
        first.get_or_insert(out.samples);
    }

    if let Some(samples) = first {
        println!("\nfirst DDPM samples as CSV:");
        gmdiff::io::write_matrix_csv(&mut std::io::stdout().lock(), samples.as_ref().subrows(0, 3))?;
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
