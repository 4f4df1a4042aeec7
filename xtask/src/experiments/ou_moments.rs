//! OU moments: the forward process moves the moments of a Gaussian target in closed form.
//!
//! **Claim.** Under the Ornstein–Uhlenbeck forward process
//! `x_t = e^{-t} x_0 + sqrt(1 − e^{-2t}) z`, `z ~ N(0, 1)` independent of `x_0`, a 1-D target
//! `x_0 ~ N(m, s²)` stays Gaussian with mean `e^{-t} m` and variance `e^{-2t} s² + 1 − e^{-2t}`.
//!
//! **Paper.** Standard OU fact (the `d = 1`, one-component case of the closure property in
//! Liang–Shi–Song–Zhou, arXiv 2405.16418). **THEORY** §0 (OU is VP with `β ≡ 2`, `a_t = e^{-t}`,
//! `b_t² = 1 − a_t²`).
//!
//! **Setup.** `m = 1.5`, `s = 2`; for each `t` in a grid on `[0, 2.5]`, `n` fresh pairs
//! `(x_0, z)` (quick: 20 000, full: 200 000) from seeded ChaCha8 streams, in chunks of 8192 so
//! the numbers do not depend on the thread count.
//!
//! **Measurement.** Sample mean and (unbiased) sample variance of `x_t`, per `t`, merged across
//! chunks with Chan's pairwise update in chunk order.
//!
//! **Verdict.** At every `t`, the sample mean is within 4 standard errors (`sqrt(var_t / n)`) of
//! `e^{-t} m`, and the sample variance within 4 standard errors (`var_t sqrt(2 / (n − 1))`, exact
//! for Gaussian data) of the closed form. Figure: `variance.svg`, the exact mean and variance
//! curves with the Monte Carlo points (±2 SE bars). Data: `moments.csv`.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde_json::{Value, json};

use crate::error::Result;
use crate::experiment::{Check, Claim, Context, Experiment, Outcome, par_chunks_seeded};
use crate::plot::{Series, Style, line_plot};

const M: f64 = 1.5;
const S: f64 = 2.0;
const TIMES: [f64; 8] = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5];
const CHUNK: usize = 8192;
const K_SE: f64 = 4.0;

/// The experiment (registered in [`crate::experiments::all`]).
pub struct OuMoments;

/// Count, mean and sum of squared deviations of a sample.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    pub n: f64,
    pub mean: f64,
    pub m2: f64,
}

impl Moments {
    /// Adds one observation (Welford).
    pub fn push(&mut self, x: f64) {
        self.n += 1.0;
        let d = x - self.mean;
        self.mean += d / self.n;
        self.m2 += d * (x - self.mean);
    }

    /// Merges two samples (Chan et al.).
    pub fn merge(self, o: Moments) -> Moments {
        if self.n == 0.0 {
            return o;
        }
        if o.n == 0.0 {
            return self;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        Moments {
            n,
            mean: self.mean + d * o.n / n,
            m2: self.m2 + o.m2 + d * d * self.n * o.n / n,
        }
    }

    /// The unbiased sample variance.
    pub fn variance(&self) -> f64 {
        self.m2 / (self.n - 1.0)
    }
}

/// Exact mean of `x_t`.
pub fn exact_mean(m: f64, t: f64) -> f64 {
    (-t).exp() * m
}

/// Exact variance of `x_t`.
pub fn exact_variance(s: f64, t: f64) -> f64 {
    let a2 = (-2.0 * t).exp();
    a2 * s * s + 1.0 - a2
}

fn ou_chunk(rng: &mut ChaCha8Rng, len: usize, m: f64, s: f64, t: f64) -> Moments {
    let a = (-t).exp();
    let b = (1.0 - a * a).max(0.0).sqrt();
    let mut acc = Moments::default();
    for _ in 0..len {
        let z0: f64 = rng.sample(StandardNormal);
        let z: f64 = rng.sample(StandardNormal);
        acc.push(a * (m + s * z0) + b * z);
    }
    acc
}

/// Monte Carlo moments of `x_t` from `n` samples, chunked for deterministic parallelism: the
/// kernel shared with the `ou` benchmark.
pub fn simulate(seed: u64, n: usize, m: f64, s: f64, t: f64) -> Moments {
    par_chunks_seeded(seed, n, CHUNK, |rng, r| ou_chunk(rng, r.len(), m, s, t))
        .into_iter()
        .fold(Moments::default(), Moments::merge)
}

impl Experiment for OuMoments {
    fn name(&self) -> &'static str {
        "ou_moments"
    }

    fn claim(&self) -> Claim {
        Claim {
            statement: "Under the OU process x_t = e^{-t} x_0 + sqrt(1-e^{-2t}) z, a 1-D N(m, s²) \
                        target has mean e^{-t} m and variance e^{-2t} s² + 1 - e^{-2t}",
            paper: "standard OU fact",
            theory_section: "§0",
        }
    }

    fn config(&self, ctx: &Context) -> Value {
        json!({
            "m": M,
            "s": S,
            "times": TIMES,
            "n": ctx.pick(20_000, 200_000),
            "chunk": CHUNK,
            "k_se": K_SE,
        })
    }

    fn run(&self, ctx: &mut Context) -> Result<Outcome> {
        let n: usize = ctx.pick(20_000, 200_000);
        let pb = ctx.progress(TIMES.len() as u64, "sampling x_t");
        let mut rows = Vec::new();
        let mut outcome = Outcome::new();
        let mut mc_var = Vec::new();
        let mut mc_mean = Vec::new();
        for (i, &t) in TIMES.iter().enumerate() {
            let mut rng_seed = ctx.rng(i as u64);
            let seed: u64 = rng_seed.random();
            let mo = simulate(seed, n, M, S, t);
            let (mean_x, var_x) = (exact_mean(M, t), exact_variance(S, t));
            let mean_se = (var_x / mo.n).sqrt();
            let var_se = var_x * (2.0 / (mo.n - 1.0)).sqrt();
            let z_mean = (mo.mean - mean_x) / mean_se;
            let z_var = (mo.variance() - var_x) / var_se;
            outcome = outcome
                .check(
                    Check::new(format!("variance, t = {t}"), z_var.abs() <= K_SE)
                        .with("sample", mo.variance())
                        .with("exact", var_x)
                        .with("se", var_se)
                        .with("z", z_var)
                        .detail(format!(
                            "|z| ≤ {K_SE} Monte-Carlo standard errors (n = {n})"
                        )),
                )
                .check(
                    Check::new(format!("mean, t = {t}"), z_mean.abs() <= K_SE)
                        .with("sample", mo.mean)
                        .with("exact", mean_x)
                        .with("se", mean_se)
                        .with("z", z_mean)
                        .detail(format!(
                            "|z| ≤ {K_SE} Monte-Carlo standard errors (n = {n})"
                        )),
                );
            rows.push(crate::row![
                t,
                n,
                mo.mean,
                mean_x,
                mean_se,
                mo.variance(),
                var_x,
                var_se,
                z_mean,
                z_var
            ]);
            mc_var.push(((t, mo.variance()), 2.0 * var_se));
            mc_mean.push(((t, mo.mean), 2.0 * mean_se));
            pb.inc(1);
        }
        pb.finish_and_clear();
        ctx.write_csv(
            "moments.csv",
            &[
                "t",
                "n",
                "mean",
                "mean_exact",
                "mean_se",
                "var",
                "var_exact",
                "var_se",
                "z_mean",
                "z_var",
            ],
            rows,
        )?;
        let t_max = TIMES[TIMES.len() - 1];
        let grid: Vec<f64> = (0..=200).map(|i| t_max * f64::from(i) / 200.0).collect();
        let series = [
            Series::line(
                "variance e^{-2t}s² + 1 - e^{-2t}",
                grid.iter().map(|&t| (t, exact_variance(S, t))).collect(),
            ),
            Series::points(
                "variance, Monte Carlo (±2 SE)",
                mc_var.iter().map(|p| p.0).collect(),
            )
            .with_y_err(mc_var.iter().map(|p| p.1).collect()),
            Series::line(
                "mean e^{-t}m",
                grid.iter().map(|&t| (t, exact_mean(M, t))).collect(),
            )
            .with_style(Style::Dashed),
            Series::points(
                "mean, Monte Carlo (±2 SE)",
                mc_mean.iter().map(|p| p.0).collect(),
            )
            .with_y_err(mc_mean.iter().map(|p| p.1).collect()),
        ];
        let path = ctx.output("variance.svg")?;
        line_plot(
            &path,
            &format!("OU forward process on N({M}, {S}²): moments of x_t (n = {n})"),
            "t",
            "moment of x_t",
            &series,
            false,
            false,
        )?;
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms_at_the_ends() {
        assert_eq!(exact_variance(S, 0.0), S * S);
        assert_eq!(exact_mean(M, 0.0), M);
        assert!((exact_variance(S, 40.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn chunked_moments_match_a_direct_pass() {
        let xs: Vec<f64> = (0..1000)
            .map(|i| (f64::from(i) * 0.37).sin() * 3.0 + 1.0)
            .collect();
        let mut whole = Moments::default();
        xs.iter().for_each(|&x| whole.push(x));
        let merged = xs.chunks(77).fold(Moments::default(), |acc, c| {
            let mut m = Moments::default();
            c.iter().for_each(|&x| m.push(x));
            acc.merge(m)
        });
        assert!((whole.mean - merged.mean).abs() < 1e-12);
        assert!((whole.variance() - merged.variance()).abs() < 1e-10);
    }

    #[test]
    fn simulation_is_deterministic_and_accurate() {
        let a = simulate(9, 50_000, M, S, 0.5);
        assert_eq!(a, simulate(9, 50_000, M, S, 0.5));
        let v = exact_variance(S, 0.5);
        assert!((a.variance() - v).abs() < 5.0 * v * (2.0 / 50_000f64).sqrt());
    }
}
