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
use gmdiff::process::{ForwardProcess, Process, TimeGrid, VpLinear};
use gmdiff::solvers::{Sampler, Schedule, Start, sample};

const MIXTURE: &str = r#"{
    "weights": [0.45, 0.35, 0.2],
    "means": [[-2.0, 0.0], [2.0, 1.0], [0.0, -2.5]],
    "covariances": [[[1.0, 0.6], [0.6, 0.8]], [0.3, 1.5], 0.5]
}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let p: GaussianMixture = serde_json::from_str(MIXTURE)?;
    let m = p.mean();
    println!("mixture: k = {}, d = {}, mean ({:.4}, {:.4}), E‖x‖² = {:.4}", p.len(), p.dim(), m[0], m[1], p.second_moment());

    let vp = VpLinear::default();
    let x = [0.5, -0.5];
    for t in [0.0, 0.1, 0.5, 1.0] {
        let c = vp.at(t)?;
        let density = p.diffused(c.a, c.b)?.density()?;
        let s = density.score(&x)?;
        println!("  t = {t:<4} log p_t({}, {}) = {:>8.4}   ∇ log p_t = ({:>8.4}, {:>8.4})", x[0], x[1], density.logpdf(&x)?, s[0], s[1]);
    }

    let (n, eps, seed) = (1500, 1e-3, 11);
    let reference = p.sample(n, 1);
    let floor = w2_exact(p.sample(n, 2).as_ref(), reference.as_ref())?;
    println!("\n{n} samples each; W2 between two exact samples (floor) = {floor:.4}");

    let process = Process::Vp(vp);
    let runs = [
        ("ddpm, 200 uniform steps", Sampler::Ddpm, Schedule::uniform_vp(200, eps)?),
        ("dpmpp2m, 20 log-SNR steps", Sampler::DpmSolver2M, Schedule::grid(process, TimeGrid::log_snr_uniform(&process, 20, eps)?)),
    ];
    let mut first = None;
    for (label, sampler, schedule) in runs {
        let out = sample(&sampler, &schedule, &p, Start::Standard, n, seed)?;
        let w2 = w2_exact(out.samples.as_ref(), reference.as_ref())?;
        let (a, b) = (out.samples.as_ref().subrows(0, 500), reference.as_ref().subrows(0, 500));
        let test = permutation_test(a, b, TwoSampleStatistic::Mmd2(Bandwidth::Median), 199, 1)?;
        println!("  {label:<26} NFE = {:>3}  W2 = {w2:.4}  MMD² = {:.2e} (p = {:.3})", out.score_evals, test.statistic, test.p_value);
        first.get_or_insert(out.samples);
    }

    if let Some(samples) = first {
        println!("\nfirst DDPM samples as CSV:");
        gmdiff::io::write_matrix_csv(&mut std::io::stdout().lock(), samples.as_ref().subrows(0, 3))?;
    }
    Ok(())
}
