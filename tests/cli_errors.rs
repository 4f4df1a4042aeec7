//! Table of bad inputs for every `gmdiff` subcommand: each must print exactly one line on stderr
//! starting with `error:` and containing a stated fragment, print nothing on stdout, and exit with
//! status 2 — never a panic, never a NaN in the output.
//!
//! The mixture cases run against every subcommand that reads a mixture (`score`, `logpdf`,
//! `hessian`, `sample`, `guide`, `smoothness`, `mixture-metric`), the process cases against every subcommand with a forward
//! process, and each subcommand adds the cases of its own options.

use crate::common;
use common::*;

const GOOD_MIXTURE: &str = r#"{"weights":[0.4,0.6],"means":[[0,0],[1,1]],"covariances":[[[1,0.2],[0.2,1]],[[0.5,0],[0,0.5]]]}"#;
const GOOD_POINTS: &str = "0,0\n1,2\n";

/// One bad-input case: files to create in a scratch directory (`{dir}` in `args`), the arguments,
/// and a fragment the error line must contain (case-insensitive).
struct Case {
    name: String,
    files: Vec<(&'static str, String)>,
    args: Vec<String>,
    says: &'static str,
}

/// A subcommand with valid arguments and files, to be spoiled one way at a time.
#[derive(Clone)]
struct Template {
    files: Vec<(&'static str, String)>,
    args: Vec<String>,
}

impl Template {
    fn new(files: &[(&'static str, &str)], args: &[&str]) -> Self {
        Template { files: files.iter().map(|(n, t)| (*n, t.to_string())).collect(), args: args.iter().map(|a| a.to_string()).collect() }
    }

    fn command(&self) -> &str {
        &self.args[0]
    }

    /// Sets `--flag value`, replacing the value if the flag is present; an empty value removes it.
    fn set(mut self, flag: &str, value: &str) -> Self {
        match self.args.iter().position(|a| a == flag) {
            Some(i) if value.is_empty() => {
                self.args.drain(i..i + 2);
            }
            Some(i) => self.args[i + 1] = value.to_string(),
            None => self.args.extend([flag.to_string(), value.to_string()]),
        }
        self
    }

    /// Adds a bare argument (a switch or a positional one).
    fn push(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    /// Replaces (or removes, with `None`) one of the files.
    fn file(mut self, name: &'static str, text: Option<&str>) -> Self {
        self.files.retain(|(n, _)| *n != name);
        if let Some(t) = text {
            self.files.push((name, t.to_string()));
        }
        self
    }

    fn case(self, name: &str, says: &'static str) -> Case {
        Case { name: format!("{}: {name}", self.command()), files: self.files, args: self.args, says }
    }
}

fn density(cmd: &str) -> Template {
    Template::new(
        &[("m.json", GOOD_MIXTURE), ("p.csv", GOOD_POINTS)],
        &[cmd, "--mixture", "{dir}/m.json", "--time", "0.5", "--points", "{dir}/p.csv"],
    )
}
fn sample() -> Template {
    Template::new(
        &[("m.json", GOOD_MIXTURE)],
        &["sample", "--mixture", "{dir}/m.json", "--sampler", "euler", "--steps", "20", "--count", "10"],
    )
}
fn guide() -> Template {
    Template::new(
        &[("m.json", GOOD_MIXTURE)],
        &["guide", "--mixture", "{dir}/m.json", "--class", "0", "--strength", "1", "--sampler", "ddim", "--steps", "10", "--count", "50"],
    )
}
fn smoothness() -> Template {
    Template::new(
        &[("m.json", GOOD_MIXTURE)],
        &["smoothness", "--mixture", "{dir}/m.json", "--time", "0.5", "--radius", "3", "--samples", "50"],
    )
}
fn gaussian_error() -> Template {
    Template::new(
        &[("mean.csv", "1,-2\n"), ("cov.csv", "1,0.5\n0.5,2\n"), ("spec.txt", "1\n0.5\n0.25\n")],
        &[
            "gaussian-error",
            "--mean",
            "{dir}/mean.csv",
            "--covariance",
            "{dir}/cov.csv",
            "--scheme",
            "ei",
            "--steps",
            "20",
            "--eps",
            "1e-3",
        ],
    )
}
fn spectral() -> Template {
    gaussian_error().set("--mean", "").set("--covariance", "").set("--spectrum", "{dir}/spec.txt")
}
fn mixture_metric() -> Template {
    Template::new(
        &[("m.json", GOOD_MIXTURE), ("q.json", r#"{"weights":[1],"means":[[0,0]],"covariances":[1]}"#)],
        &["mixture-metric", "--metric", "kl", "{dir}/m.json", "{dir}/q.json", "--samples", "100"],
    )
}
fn gaussian_metric() -> Template {
    Template::new(
        &[("m1.csv", "1,-2\n"), ("c1.csv", "1,0.5\n0.5,2\n"), ("m2.csv", "0,0\n"), ("c2.csv", "2,0\n0,1\n")],
        &[
            "gaussian-metric",
            "--metric",
            "bures",
            "--mean1",
            "{dir}/m1.csv",
            "--cov1",
            "{dir}/c1.csv",
            "--mean2",
            "{dir}/m2.csv",
            "--cov2",
            "{dir}/c2.csv",
        ],
    )
}
/// A linear DDIM configuration of the latent-diffusion schedule (no field to warn about).
const GOOD_SCHEDULER: &str = r#"{"_class_name":"DDIMScheduler","num_train_timesteps":1000,"beta_schedule":"scaled_linear","beta_start":0.00085,"beta_end":0.012,"clip_sample":false,"timestep_spacing":"linspace"}"#;
fn conformance() -> Template {
    Template::new(
        &[("c.json", GOOD_SCHEDULER), ("spec.txt", "1\n0.5\n0.25\n")],
        &["conformance", "--diffusers-config", "{dir}/c.json", "--steps", "10", "--spectrum", "{dir}/spec.txt"],
    )
}
fn w2() -> Template {
    Template::new(&[("x.csv", "0,0\n1,1\n2,0\n"), ("y.csv", "0,1\n1,2\n")], &["w2", "{dir}/x.csv", "{dir}/y.csv"])
}

/// Bad mixtures, for every subcommand that reads one.
fn mixture_cases(t: &Template) -> Vec<Case> {
    let m = |text: &str| t.clone().file("m.json", Some(text));
    vec![
        t.clone().file("m.json", None).case("missing mixture file", "m.json"),
        m("").case("empty mixture file", "m.json"),
        m("{\"weights\": [1.0").case("malformed JSON", "m.json"),
        m(r#"{"weights":[1],"means":[[NaN,0]],"covariances":[1]}"#).case("NaN is not JSON", "m.json"),
        m(r#"{"weights":[1],"means":[[0,0]],"covariances":[1e999]}"#).case("∞ covariance", "m.json"),
        m(r#"{"weights":[-0.5,1.5],"means":[[0,0],[1,1]],"covariances":[1,1]}"#).case("negative weight", "negative"),
        m(r#"{"weights":[0.5,0.6],"means":[[0,0],[1,1]],"covariances":[1,1]}"#).case("weights not normalised", "sum"),
        m(r#"{"weights":[1],"means":[[0,0],[1,1]],"covariances":[1,1]}"#).case("fewer weights than components", "weights"),
        m(r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,0.5],[0.1,1]]]}"#).case("non-symmetric covariance", "symmetric"),
        m(r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,3],[3,1]]]}"#).case("indefinite covariance", "semi-definite"),
        m(r#"{"weights":[1],"means":[[0,0]],"covariances":[-1]}"#).case("negative variance", "variance"),
        m(r#"{"weights":[],"means":[],"covariances":[]}"#).case("k = 0", "k = 0"),
        m(r#"{"weights":[1],"means":[[]],"covariances":[1]}"#).case("d = 0", "d = 0"),
        m(r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,0,0],[0,1,0],[0,0,1]]]}"#)
            .case("mean/covariance dimension mismatch", "mismatch"),
        m(r#"{"weights":[0.5,0.5],"means":[[0,0],[1]],"covariances":[1,1]}"#).case("components of different dimensions", "dimension"),
    ]
}

/// Bad forward processes, for every subcommand with one.
fn process_cases(t: &Template) -> Vec<Case> {
    let vp = t.clone().set("--process", "vp");
    vec![
        vp.clone().set("--beta-min", "-1").case("negative β_min", "beta_min"),
        vp.clone().set("--beta-max", "NaN").case("NaN β_max", "beta_max"),
        vp.clone().set("--beta-min", "30").case("β_min > β_max", "beta"),
        vp.clone().set("--horizon", "0").case("zero horizon", "T"),
        vp.clone().set("--horizon", "inf").case("infinite horizon", "T"),
        t.clone().set("--process", "vq").case("unknown process", "vq"),
        t.clone().set("--process", "ou").set("--beta-min", "0.2").case("β_min without vp", "vp"),
        t.clone().set("--process", "vp-cosine").set("--horizon", "2").case("horizon of the cosine schedule", "horizon"),
    ]
}

/// Bad parameters of the other Gaussian paths (issue 12), for every subcommand with a process.
fn path_cases(t: &Template) -> Vec<Case> {
    vec![
        t.clone().set("--process", "vp").set("--sigma-min", "0.1").case("σ_min with vp", "--sigma-min"),
        t.clone().set("--process", "flow").set("--sigma-max", "5").case("σ_max with flow", "--sigma-max"),
        t.clone().set("--process", "flow").set("--horizon", "1.5").case("flow horizon past 1", "T"),
        t.clone().set("--process", "ve").set("--sigma-min", "1").set("--sigma-max", "0.5").case("ve σ_max below σ_min", "sigma_max"),
        t.clone().set("--process", "ve").set("--sigma-min", "0").case("ve σ_min = 0", "sigma_min"),
        t.clone().set("--process", "ve").set("--horizon", "2").case("horizon of ve", "horizon"),
        t.clone().set("--process", "edm").set("--horizon", "2").case("horizon of edm", "--sigma-max"),
        t.clone().set("--process", "edm").set("--sigma-max", "-1").case("negative edm σ_max", "sigma_max"),
    ]
}

/// Misused sampler options (the block shared by `sample` and `gaussian-error`); `t` runs a
/// non-ddim, non-corrector sampler on the default VP path with `--steps`.
fn sampler_option_cases(t: &Template, sampler: &str) -> Vec<Case> {
    let s = |name: &str| t.clone().set(sampler, name);
    vec![
        t.clone().set("--eta", "0").case("explicit η = 0 without ddim", "--eta"),
        t.clone().set("--rho", "3").case("ρ with the uniform grid", "--rho"),
        t.clone().set("--grid", "log-snr").set("--rho", "3").case("ρ with the log-snr grid", "--rho"),
        t.clone().set("--grid", "polyexponential").set("--rho", "0").case("ρ = 0 of the polyexponential grid", "rho"),
        s("ddim").set("--friction", "1").case("friction with ddim", "--friction"),
        s("dpom").set("--friction", "1").case("friction with dpom", "--friction"),
        t.clone().set("--corrector-every", "2").case("corrector period without a corrector", "dpom and dpum"),
        t.clone().set("--corrector-iterations", "2").case("corrector iterations without a corrector", "dpom and dpum"),
        t.clone().set("--corrector-step-scale", "0.1").case("corrector step without a corrector", "dpom and dpum"),
        s("dpom").set("--corrector-step-scale", "-1").case("negative corrector step", "step_scale"),
        s("dpum").set("--friction", "0").case("zero friction", "friction"),
        s("dpum").set("--corrector-every", "0").case("corrector every 0 steps", "every"),
        s("dpum").set("--corrector-every", "-1").case("negative corrector period", "-1"),
        t.clone().set("--grid", "exponential").set("--eps", "0").case("exponential grid with ε = 0", "ε"),
        t.clone().set("--process", "edm").set("--steps", "1").case("one EDM step (num_steps ≥ 2)", "N ≥ 2"),
        t.clone().set("--process", "edm").set("--eps", "0").case("EDM Karras grid without σ_min", "σ_min"),
        t.clone().set("--process", "edm").set("--eps", "100").case("EDM σ_min above σ_max", "ε"),
        t.clone().set("--process", "flow").set("--grid", "karras").case("Karras grid on flow at T = 1", "--horizon below 1"),
        t.clone().set("--process", "flow").set("--grid", "log-snr").case("log-SNR grid on flow at T = 1", "--horizon below 1"),
        s("em").set("--process", "flow").case("EM on flow at T = 1 (f infinite)", "a_T = 0"),
        s("dpum").set("--process", "flow").case("DPUM on flow at T = 1", "a_T = 0"),
    ]
}

/// Bad times t, for the subcommands evaluated at one time.
fn time_cases(t: &Template) -> Vec<Case> {
    vec![
        t.clone().set("--time", "-0.1").case("negative t", "outside"),
        t.clone().set("--time", "NaN").case("NaN t", "outside"),
        t.clone().set("--time", "inf").case("infinite t", "outside"),
        // OU and VP are defined for every t ≥ 0: a query past the horizon is fine (issue 14); the
        // cosine schedule ends at 0.9946, and the error names the fix.
        t.clone().set("--process", "vp-cosine").set("--time", "0.999").case("t past the end of the cosine schedule", "--process vp or ou"),
        t.clone().set("--time", "soon").case("t not a number", "soon"),
    ]
}

/// Bad grids: steps and early stops.
fn grid_cases(t: &Template) -> Vec<Case> {
    vec![
        t.clone().set("--steps", "0").case("zero steps", "step"),
        t.clone().set("--steps", "-3").case("negative steps", "-3"),
        t.clone().set("--eps", "-0.1").case("negative ε", "ε"),
        t.clone().set("--eps", "NaN").case("NaN ε", "ε"),
        t.clone().set("--eps", "1e9").case("ε beyond T", "ε"),
    ]
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let at = |t: Template, text: &str| t.file("p.csv", Some(text));

    for cmd in ["score", "logpdf", "hessian"] {
        let t = density(cmd);
        v.extend(mixture_cases(&t));
        v.extend(process_cases(&t));
        v.extend(time_cases(&t));
        v.extend([
            t.clone().set("--points", "{dir}/p.dat").file("p.dat", Some(GOOD_POINTS)).case("unknown points extension", ".dat"),
            t.clone().set("--points", "-").set("--mixture", "-").case("two inputs from standard input", "only one input"),
            t.clone()
                .file("m.json", Some(r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,1],[1,1]]]}"#))
                .set("--time", "0")
                .case("singular covariance at t = 0", "singular"),
            t.clone().file("p.csv", None).case("missing points file", "p.csv"),
            at(t.clone(), "1,2,3\n").case("points of the wrong dimension", "dimension"),
            at(t.clone(), "0,NaN\n").case("NaN in points", "not finite"),
            at(t.clone(), "inf,0\n").case("∞ in points", "not finite"),
            at(t.clone(), "0,abc\n").case("text in points", "not a number"),
            at(t.clone(), "0,1\n2\n").case("ragged points", "expected 2"),
            at(t.clone(), "").case("empty points file", "empty"),
            t.clone().set("--points", "").case("missing required argument", "required"),
        ]);
    }

    // A score that is not representable: P (x − μ) = 1e300 · 1e308 at x = 0 (log p is −∞ there, and
    // the Hessian −P = −1e300 is finite, so only `score` refuses).
    v.push(
        density("score")
            .file("m.json", Some(r#"{"weights":[1],"means":[[1e308,0]],"covariances":[1e-300]}"#))
            .set("--time", "0")
            .case("score beyond f64 (1e308 / 1e-300)", "overflows f64"),
    );

    let t = sample();
    v.extend(mixture_cases(&t));
    v.extend(process_cases(&t));
    v.extend(path_cases(&t));
    v.extend(grid_cases(&t));
    v.extend(sampler_option_cases(&t, "--sampler"));
    v.extend([
        t.clone().set("--sampler", "ddpm").set("--steps", "10").case("DDPM steps too large for β (β_k ≥ 1)", "β_k"),
        t.clone().set("--sampler", "leapfrog").case("unknown sampler", "leapfrog"),
        t.clone().set("--count", "0").case("zero samples", "count"),
        t.clone().set("--count", "100000000000000").case("more samples than memory", "memory"),
        t.clone().set("--count", "18446744073709551615").case("usize::MAX samples", "memory"),
        t.clone().set("--steps", "100000000000000").case("more steps than memory", "memory"),
        t.clone().set("--eta", "0.5").case("η without ddim", "eta"),
        t.clone().set("--sampler", "ddim").set("--eta", "1.5").case("η above 1", "eta"),
        t.clone().set("--sampler", "ddim").set("--eta", "NaN").case("NaN η", "eta"),
        t.clone().set("--grid", "karras").set("--eps", "0").case("Karras grid with ε = 0", "ε"),
        t.clone().set("--grid", "karras").set("--rho", "-1").case("negative ρ", "rho"),
        t.clone().set("--grid", "spiral").case("unknown grid", "spiral"),
        t.clone().set("--out", "{dir}/no/such/dir/x.csv").case("unwritable output", "x.csv"),
        t.clone().set("--out", "{dir}/x.txt").case("unknown output extension", ".txt"),
        t.clone().set("--sampler", "exact").case("exact draws take no steps", "--steps"),
        t.clone().set("--sampler", "exact").set("--steps", "").set("--process", "ou").case("exact draws take no process", "process"),
        t.clone().set("--sampler", "exact").set("--steps", "").set("--count", "0").case("exact draws: zero samples", "count"),
        t.clone().set("--steps", "").case("missing steps", "--steps"),
        t.clone().set("--sampler", "eulr").case("unknown sampler lists exact", "exact"),
        t.clone().set("--process", "ou").set("--eps", "2").case("ε beyond the OU horizon names the fix", "--horizon"),
        t.clone().set("--sampler", "exact").set("--steps", "").set("--grid", "karras").case("exact draws take no grid", "--grid"),
        t.clone().set("--sampler", "exact").set("--steps", "").set("--eps", "0.1").case("exact draws take no ε", "--eps"),
        t.clone().set("--sampler", "exact").set("--steps", "").set("--eta", "0.5").case("exact draws take no η", "--eta"),
        t.clone().set("--sampler", "exact").set("--steps", "").set("--sigma-max", "5").case("exact draws take no σ_max", "process"),
    ]);

    let t = guide();
    v.extend(mixture_cases(&t));
    v.extend(process_cases(&t));
    v.extend(grid_cases(&t));
    v.extend([
        t.clone().set("--class", "3").case("class out of range", "class"),
        t.clone().set("--class", "-1").case("negative class", "-1"),
        t.clone().set("--strength", "-1").case("negative strength", "strength"),
        t.clone().set("--strength", "NaN").case("NaN strength", "strength"),
        t.clone().set("--strength", "inf").case("∞ strength", "strength"),
        t.clone().set("--classes", "0").case("classes missing a component", "component"),
        t.clone().set("--classes", "0,1;1").case("overlapping classes", "1"),
        t.clone().set("--classes", "0;x").case("class spec not an index", "x"),
        t.clone().set("--count", "1").case("one sample", "count"),
        t.clone().set("--sampler", "ddpm").set("--count", "5").case("k-NN entropy with 5 samples", "--count must be at least 6"),
        t.clone().set("--sampler", "ode").set("--eta", "0.5").case("η without ddim", "eta"),
        t.clone().set("--sampler", "ddim").set("--eta", "0.5").set("--count", "3").case("stochastic DDIM with 3 samples", "--count"),
        t.clone().set("--out", "{dir}/x.json").case("unknown output extension", ".json"),
        t.clone().set("--count", "100000000000000").case("more samples than memory (ddim)", "memory"),
        t.clone().set("--count", "100000000000000").set("--sampler", "ode").case("more samples than memory (ode)", "memory"),
        t.clone()
            .set("--count", "100000000000000")
            .set("--sampler", "ddpm")
            .set("--steps", "50")
            .case("more samples than memory (ddpm)", "memory"),
        t.clone().set("--sampler", "euler-maruyama").case("unknown sampler", "euler-maruyama"),
        t.clone().set("--sampler", "euler-maruyama").case("unknown sampler lists ode", "ode (heun)"),
        t.clone()
            .set("--order", "3")
            .case("an option the sampler does not take", "--order applies only to --sampler unipc, deis, lms and dpmpp-single"),
        t.clone()
            .set("--skip-prk-steps", "true")
            .case("PNDM's warm-up flag on another sampler", "--skip-prk-steps applies only to --sampler pndm"),
        t.clone()
            .set("--last-step-noise", "false")
            .case("DDPM's last-step flag on another sampler", "--last-step-noise applies only to --sampler ddpm"),
        t.clone().set("--sampler", "dpmpp-single").set("--order", "4").case("single-step DPM-Solver++ order beyond 3", "order"),
        t.clone()
            .set("--sampler", "dpmpp-single")
            .set("--solver-type", "bh2")
            .case("single-step solver type", "dpmpp-single takes midpoint or heun"),
        t.clone().set("--sampler", "lms").set("--order", "7").case("LMS order beyond 4", "order"),
        t.clone()
            .set("--sampler", "euler-a")
            .set("--count", "5")
            .case("k-NN entropy of euler-a with 5 samples", "--count must be at least 6"),
        t.clone().set("--sampler", "edm-sde").set("--s-churn", "-1").case("negative S_churn", "churn"),
        t.clone()
            .set("--sampler", "ddpm")
            .set("--steps", "10")
            .set("--process", "vp")
            .set("--horizon", "1")
            .case("DDPM steps too large for β (β_k ≥ 1)", "β_k"),
    ]);

    let t = smoothness();
    v.extend(mixture_cases(&t));
    v.extend(process_cases(&t));
    v.extend(time_cases(&t));
    v.extend([
        t.clone().set("--radius", "-1").case("negative radius", "radius"),
        t.clone().set("--radius", "NaN").case("NaN radius", "radius"),
        t.clone().set("--radius", "inf").case("∞ radius", "radius"),
        t.clone().set("--radius", "").case("unequal precisions need a radius", "radius"),
    ]);

    let t = gaussian_error();
    let dense = |name: &'static str, text: &str| t.clone().file(name, Some(text));
    v.extend(process_cases(&t));
    v.extend(path_cases(&t));
    v.extend(grid_cases(&t));
    v.extend(sampler_option_cases(&t, "--scheme"));
    v.extend([
        t.clone().set("--scheme", "ddpm").set("--steps", "10").case("DDPM steps too large for β (β_k ≥ 1)", "β_k"),
        t.clone().set("--scheme", "magic").case("unknown scheme", "magic"),
        t.clone().set("--steps", "").case("discrete scheme without steps", "--steps"),
        t.clone().set("--score-scale", "-1").case("score scale −1", "score-scale"),
        t.clone().set("--score-scale", "NaN").case("NaN score scale", "score-scale"),
        t.clone().set("--scheme", "sde").set("--eps", "1").case("exact SDE with ε = T", "eps"),
        t.clone().set("--scheme", "ode").push("--decompose").case("decompose of the exact ODE", "decompose"),
        // The exact continuous law is not exposed by the library: refused rather than recomputed.
        t.clone().set("--scheme", "sde").push("--law").case("law of the exact SDE", "--law"),
        t.clone().set("--scheme", "ode").set("--steps", "").set("--grid", "karras").case("grid of sde/ode without steps", "--grid"),
        t.clone().set("--scheme", "ode").set("--eta", "0.5").case("η with the exact ODE", "--eta"),
        t.clone().set("--scheme", "sde").set("--friction", "1").case("friction with the exact SDE", "--friction"),
        t.clone().set("--grid", "karras").push("--decompose").case("decompose on a Karras grid", "uniform"),
        t.clone().set("--process", "edm").push("--decompose").case("decompose on the EDM grid", "uniform"),
        t.clone().set("--mean", "").set("--covariance", "").case("no data", "--spectrum"),
        t.clone().set("--covariance", "").case("mean without covariance", "covariance"),
        t.clone().set("--spectrum", "{dir}/spec.txt").case("spectrum and mean together", "spectrum"),
        dense("mean.csv", "1,NaN\n").case("NaN mean", "not finite"),
        dense("mean.csv", "").case("empty mean file", "empty"),
        dense("mean.csv", "1,2\n3,4\n").case("mean neither a row nor a column", "one row"),
        dense("mean.csv", "1,2,3\n").case("mean/covariance dimension mismatch", "3 entries"),
        dense("cov.csv", "1,0.5\n0.1,2\n").case("non-symmetric covariance", "symmetric"),
        dense("cov.csv", "1,3\n3,1\n").case("indefinite covariance", "definite"),
        dense("cov.csv", "1,inf\ninf,2\n").case("∞ in the covariance", "not finite"),
        dense("cov.csv", "1,0.5\n0.5\n").case("ragged covariance", "expected 2"),
    ]);
    let t = spectral();
    let spec = |text: &str| t.clone().file("spec.txt", Some(text));
    v.extend([
        t.clone().file("spec.txt", None).case("missing spectrum file", "spec.txt"),
        spec("").case("empty spectrum", "empty"),
        spec("1\n-0.5\n").case("negative eigenvalue", "≥ 0"),
        spec("1\nNaN\n").case("NaN eigenvalue", "finite"),
        spec("1\ninf\n").case("∞ eigenvalue", "finite"),
        spec("1\nabc\n").case("text in the spectrum", "abc"),
    ]);
    let npy = |name: &str, ext: &'static str, bytes: &str| {
        let t = spectral().file(ext, Some(bytes)).set("--spectrum", &format!("{{dir}}/{ext}"));
        t.case(name, "npy")
    };
    v.extend([
        npy("npy with a 2-D shape", "s.npy", &npy_bytes("<f8", "(2, 2)", &[1.0, 0.0, 0.0, 1.0])),
        npy("npy of integers", "i.npy", &npy_bytes("<i8", "(1,)", &[0.0])),
        npy("truncated npy header", "t.npy", &npy_bytes("<f8", "(2,)", &[1.0, 2.0]).chars().take(20).collect::<String>()),
        npy("npy payload shorter than its shape", "p.npy", &npy_bytes("<f8", "(3,)", &[1.0, 2.0])),
    ]);

    let t = conformance();
    let config = |text: &str| t.clone().file("c.json", Some(text));
    let ddim = |extra: &str| config(&GOOD_SCHEDULER.replace("}", &format!(",{extra}}}")));
    v.extend([
        t.clone().file("c.json", None).case("missing scheduler config", "c.json"),
        config("not json").case("scheduler config not JSON", "not a JSON object"),
        config("[1, 2]").case("scheduler config a JSON array", "not a JSON object"),
        config(r#"{"num_train_timesteps":1000}"#).case("scheduler config without _class_name", "_class_name"),
        config(r#"{"_class_name":"FooScheduler"}"#).case("unknown scheduler class", "FooScheduler"),
        ddim(r#""clip_sample":true"#).case("clip_sample (nonlinear)", "clip_sample"),
        ddim(r#""thresholding":true"#).case("dynamic thresholding (nonlinear)", "thresholding"),
        ddim(r#""steps_offset":-1"#).case("negative steps_offset", "steps_offset"),
        ddim(r#""beta_schedule":"sigmoid""#).case("unknown beta_schedule", "beta_schedule"),
        ddim(r#""beta_start":"small""#).case("beta_start of the wrong type", "beta_start"),
        config(r#"{"_class_name":"DDIMScheduler","clip_sample":false,"num_train_timesteps":3,"trained_betas":[0.1,NaN,0.2]}"#)
            .case("NaN in trained_betas", "finite"),
        config(r#"{"_class_name":"DDIMScheduler","clip_sample":false,"num_train_timesteps":2,"trained_betas":[0.1,Infinity]}"#)
            .case("∞ in trained_betas", "finite"),
        config(r#"{"_class_name":"DDIMScheduler","clip_sample":false,"num_train_timesteps":3,"trained_betas":[0.1,0.2]}"#)
            .case("trained_betas of the wrong length", "trained_betas"),
        config(r#"{"_class_name":"PNDMScheduler","timestep_spacing":"linspace"}"#)
            .case("PNDM whose stride does not meet its linspace timesteps", "does not meet its timesteps"),
        config(r#"{"_class_name":"PNDMScheduler","prediction_type":"v_prediction"}"#).case("PNDM with v-prediction", "not modelled"),
        config(r#"{"_class_name":"DPMSolverSinglestepScheduler","algorithm_type":"sde-dpmsolver++"}"#)
            .case("DPM-Solver single-step SDE variant", "not modelled"),
        config(r#"{"_class_name":"DDPMScheduler","clip_sample":false,"variance_type":"learned_range"}"#)
            .case("DDPM learned variance", "nonlinear"),
        config(r#"{"_class_name":"DPMSolverMultistepScheduler","algorithm_type":"dpmsolver"}"#)
            .case("noise-prediction DPM-Solver", "dpmsolver"),
        t.clone().set("--steps", "1001").case("steps > num_train_timesteps", "exceeds num_train_timesteps"),
        t.clone().set("--steps", "").case("conformance without --steps", "--steps"),
        t.clone().set("--steps", "10,x").case("non-integer step count", "x"),
        t.clone().set("--steps", "10,0").case("zero inference steps", "at least 1"),
        t.clone().set("--spectrum", "").case("conformance without data", "--spectrum"),
        t.clone()
            .set("--mean", "{dir}/spec.txt")
            .set("--covariance", "{dir}/spec.txt")
            .case("both --spectrum and --mean", "cannot be used with"),
        t.clone().push("--law").push("--table").case("--law with --table", "cannot be used with"),
        t.clone().file("spec.txt", Some("1\n-1\n")).case("negative eigenvalue in conformance", "≥ 0"),
    ]);

    let t = w2();
    for cmd in ["w2", "mmd"] {
        let t = w2_as(cmd, &t);
        v.extend([
            t.clone().file("y.csv", Some("0,1,2\n1,2,3\n")).case("clouds of different dimensions", "dimension"),
            t.clone().file("x.csv", Some("")).case("empty cloud", "empty"),
            t.clone().file("y.csv", None).case("missing cloud file", "y.csv"),
            t.clone().file("x.csv", Some("0,NaN\n")).case("NaN in a cloud", "not finite"),
            t.clone().file("x.csv", Some("0,1e999\n")).case("overflowing number in a cloud", "not finite"),
        ]);
    }
    v.extend([
        t.clone().set("--method", "fast").case("unknown w2 method", "fast"),
        t.clone().set("--method", "sliced").set("--projections", "0").case("zero projections", "projections"),
        w2_as("mmd", &t).set("--bandwidth", "-1").case("negative bandwidth", "bandwidth"),
        w2_as("mmd", &t).set("--bandwidth", "NaN").case("NaN bandwidth", "bandwidth"),
        t.clone().set("--method", "exakt").case("misspelt method with its hint", "did you mean 'exact'"),
        Template::new(&[("x.txt", "0,0\n")], &["w2", "{dir}/x.txt", "{dir}/x.txt"]).case("unknown cloud extension", ".txt"),
        Template::new(&[], &["w2", "-", "-"]).case("both clouds from standard input", "only one input"),
        Template::new(&[("x.npy", &npy_bytes("<f8", "(2, 2, 1)", &[0.0; 4]))], &["w2", "{dir}/x.npy", "{dir}/x.npy"])
            .case("3-D npy cloud", "1-D or 2-D"),
        Template::new(&[("x.npy", &npy_bytes("<f8", "(2, 1)", &[0.0, f64::NAN]))], &["w2", "{dir}/x.npy", "{dir}/x.npy"])
            .case("NaN in an npy cloud", "not finite"),
        Template::new(&[("x.npy", &npy_bytes("<i8", "(1, 1)", &[0.0]))], &["w2", "{dir}/x.npy", "{dir}/x.npy"])
            .case("integer npy cloud", "float64"),
        Template::new(&[("x.npy", &npy_bytes("<f8", "(1000000, 1)", &vec![0.0; 1_000_000]))], &["w2", "{dir}/x.npy", "{dir}/x.npy"])
            .case("exact W2 on 10^6 points is refused before it starts", "--method sliced"),
    ]);

    let t = mixture_metric();
    v.extend(mixture_cases(&t));
    v.extend([
        t.clone().set("--metric", "hellinger").case("unknown metric", "hellinger"),
        t.clone().set("--samples", "2").case("too few samples", "--samples"),
        t.clone().file("q.json", None).case("missing q", "q.json"),
        t.clone().file("q.json", Some(r#"{"weights":[1],"means":[[0]],"covariances":[1]}"#)).case("q of another dimension", "dimension"),
        Template::new(&[("m.json", GOOD_MIXTURE)], &["mixture-metric", "--metric", "kl", "{dir}/m.json"]).case("kl without q", "P and Q"),
        Template::new(&[("m.json", GOOD_MIXTURE)], &["mixture-metric", "--metric", "entropy", "{dir}/m.json", "{dir}/m.json"])
            .case("entropy with two mixtures", "one mixture"),
        Template::new(&[], &["mixture-metric", "--metric", "tv", "-", "-"]).case("two mixtures from standard input", "only one input"),
        t.clone()
            .file("q.json", Some(r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,1],[1,1]]]}"#))
            .set("--metric", "kl")
            .case("kl to a law without density", "singular"),
    ]);

    let t = gaussian_metric();
    let g = |name: &'static str, text: &str| t.clone().file(name, Some(text));
    v.extend([
        t.clone().set("--metric", "wasserstein").case("unknown metric", "wasserstein"),
        t.clone().set("--mean2", "").case("missing mean2", "--mean2"),
        t.clone().set("--cov2", "").case("missing cov2", "--cov2"),
        g("c1.csv", "1,0.5\n0.1,2\n").case("non-symmetric covariance", "symmetric"),
        g("c2.csv", "1,3\n3,1\n").case("indefinite covariance", "semi-definite"),
        g("c1.csv", "1,inf\ninf,2\n").case("∞ in a covariance", "not finite"),
        g("m1.csv", "1,2\n3,4\n").case("mean neither a row nor a column", "one row"),
        g("m1.csv", "1,2,3\n").case("mean/covariance dimension mismatch", "dimension"),
        g("m2.csv", "1,NaN\n").case("NaN mean", "not finite"),
        t.clone().set("--metric", "entropy").case("entropy with a second law", "only --cov1"),
        t.clone().set("--cov1", "{dir}/c1.bin").case("unknown covariance extension", ".bin"),
    ]);

    v.push(Template::new(&[], &["sampel"]).case("misspelt subcommand with its hint", "did you mean 'sample'"));

    v.push(Template::new(&[], &["frobnicate"]).case("unknown subcommand", "frobnicate"));
    v
}

fn w2_as(cmd: &str, t: &Template) -> Template {
    Template { args: std::iter::once(cmd.to_string()).chain(t.args[1..].iter().cloned()).collect(), ..t.clone() }
}

/// A version-1 `.npy` file as a (Latin-1 mapped) string: magic, header, little-endian payload.
fn npy_bytes(descr: &str, shape: &str, values: &[f64]) -> String {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.bytes());
    for v in values {
        bytes.extend(v.to_le_bytes());
    }
    bytes.into_iter().map(char::from).collect()
}

#[test]
fn every_bad_input_is_one_error_line_and_status_2() {
    let dir = scratch("errors");
    let d = dir.display().to_string();
    let all = cases();
    let mut failures = Vec::new();
    for (i, case) in all.iter().enumerate() {
        let case_dir = dir.join(i.to_string());
        std::fs::create_dir_all(&case_dir).unwrap();
        for (name, text) in &case.files {
            // Files are written byte for byte: chars below 256 stand for single bytes (npy).
            let bytes: Vec<u8> = if text.chars().all(|c| (c as u32) < 256) && name.ends_with(".npy") {
                text.chars().map(|c| c as u8).collect()
            } else {
                text.as_bytes().to_vec()
            };
            std::fs::write(case_dir.join(name), bytes).unwrap();
        }
        let cd = format!("{d}/{i}");
        let args: Vec<String> = case.args.iter().map(|a| a.replace("{dir}", &cd)).collect();
        let run = gmdiff(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let lines: Vec<&str> = run.stderr.lines().collect();
        let ok = run.status == 2
            && run.stdout.is_empty()
            && lines.len() == 1
            && lines[0].starts_with("error:")
            && !run.stderr.contains("panicked")
            && lines[0].to_lowercase().contains(&case.says.to_lowercase());
        if !ok {
            failures.push(format!("{}: status {}, stderr {:?}, stdout {:?}", case.name, run.status, run.stderr, run.stdout));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    println!("{} bad-input cases, {} misbehaved", all.len(), failures.len());
    assert!(all.len() > 200, "the table shrank to {} cases", all.len());
    assert!(failures.is_empty(), "{} of {} bad-input cases misbehaved:\n{}", failures.len(), all.len(), failures.join("\n"));
}
