//! `cargo xtask`: gmdiff's experiment runner, benchmarks and figures.
//!
//! - `cargo xtask reproduce [--quick] [--only NAME]... [--out DIR] [--data DIR] [--seed S]
//!   [--force] [--threads N]`: runs the theorem-validation experiments and writes
//!   `results/report.md` and `results/report.json`.
//! - `cargo xtask bench <workload>... [--json]`: times workloads, one line (JSON with `--json`)
//!   each.
//! - `cargo xtask list`: the experiments and their claims.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use xtask::{Result, XtaskError, bench, experiments, runner};

#[derive(Parser)]
#[command(name = "xtask", about = "gmdiff experiments, benchmarks and figures")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the theorem-validation experiments and write report.md / report.json.
    Reproduce(ReproduceArgs),
    /// Time workloads; prints one line per workload (JSON with --json). No workload: list them.
    Bench(BenchArgs),
    /// List the experiments and their claims.
    List,
}

#[derive(Args)]
struct ReproduceArgs {
    /// Smaller sample sizes and grids (the same claims); finishes in about a minute.
    #[arg(long)]
    quick: bool,
    /// Run only this experiment (repeatable). The report also keeps other experiments whose
    /// cached results match the current settings.
    #[arg(long, value_name = "NAME")]
    only: Vec<String>,
    /// Output directory [default: <workspace>/results].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Data directory holding the spectra [default: <workspace>/data, shipped with the repository].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Global seed; every random stream derives from it.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Recompute even when a cached result matches.
    #[arg(long)]
    force: bool,
    /// Size of the rayon thread pool (results do not depend on it).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

#[derive(Args)]
struct BenchArgs {
    /// Workloads to time (`all` for every one).
    workloads: Vec<String>,
    /// Number of points [default: per workload].
    #[arg(long)]
    n: Option<usize>,
    /// Dimension [default: per workload].
    #[arg(long)]
    d: Option<usize>,
    /// Number of components (or times, per workload) [default: per workload].
    #[arg(long)]
    k: Option<usize>,
    /// Timed repetitions; the best is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Seed of the workload's input.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of sampler steps (workloads that step).
    #[arg(long)]
    steps: Option<usize>,
    /// Sampler name (the `sample` workload).
    #[arg(long)]
    sampler: Option<String>,
    /// Method name (the `w2` workload: exact, sliced, bures).
    #[arg(long)]
    method: Option<String>,
    /// Print {"workload":..,"n":..,"d":..,"k":..,"seconds":..} lines.
    #[arg(long)]
    json: bool,
    /// Compare with the peer script of the workload (in --peers-dir), run with this Python
    /// (needs jax/numpy, or POT for w2; see benches/peers/requirements.txt).
    #[arg(long, value_name = "PYTHON")]
    peer: Option<String>,
    /// Directory of the peer scripts; default benches/peers/.
    #[arg(long, value_name = "DIR")]
    peers_dir: Option<std::path::PathBuf>,
    /// Peer script to use instead of the workload's default (gmm_score_jax_analytic.py,
    /// gmm_ddpm_jax_analytic.py, mmd_numpy.py, ot_pot_large.py / ot_pot.py), same arguments:
    /// e.g. gmm_score_jax.py or gmm_score_numpy.py for score, gmm_ddpm_jax.py for sample.
    #[arg(long, value_name = "FILE", requires = "peer")]
    peer_script: Option<String>,
    /// Alternating rounds of ours and the peer's in compare mode; medians are reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Size of the rayon thread pool.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Instead of timing: plot the speedups of saved compare lines (`--peer` output, JSON lines)
    /// into --figure.
    #[arg(long, value_name = "RESULTS.jsonl", conflicts_with = "peer")]
    plot: Option<std::path::PathBuf>,
    /// The SVG written by --plot [default: docs/figures/bench_peers.svg of the workspace].
    #[arg(long, value_name = "OUT.svg", requires = "plot")]
    figure: Option<std::path::PathBuf>,
}

fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(n) = threads {
        if n == 0 {
            return Err(XtaskError::Usage("--threads must be at least 1".into()));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| XtaskError::Usage(format!("cannot build a pool of {n} threads: {e}")))?;
    }
    Ok(())
}

fn reproduce(a: ReproduceArgs) -> Result<ExitCode> {
    set_threads(a.threads)?;
    let data = match a.data {
        Some(d) => {
            if !d.is_dir() {
                return Err(XtaskError::Usage(format!("--data {}: not a directory", d.display())));
            }
            d
        }
        None => runner::default_data_dir(),
    };
    let opts = runner::Options {
        quick: a.quick,
        only: a.only,
        out: a.out.unwrap_or_else(runner::default_out_dir),
        data: Some(data),
        seed: a.seed,
        force: a.force,
        progress: true,
        code: runner::executable_hash()?,
    };
    let summary = runner::reproduce(&opts, &experiments::all(), &mut std::io::stderr())?;
    summary.print(&mut std::io::stdout()).map_err(|e| XtaskError::io("write", "stdout", e))?;
    let errors = summary.errors();
    if errors.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for (name, msg) in errors {
        eprintln!("error: experiment {name} failed: {msg}");
    }
    Ok(ExitCode::FAILURE)
}

fn list() {
    for e in experiments::all() {
        let c = e.claim();
        println!("{}  [{}; THEORY {}]", e.name(), c.paper, c.theory_section);
        println!("    {}", c.statement);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Reproduce(a) => reproduce(a),
        Cmd::Bench(a) if a.plot.is_some() => {
            let input = a.plot.unwrap_or_default();
            let figure = a.figure.unwrap_or_else(|| runner::workspace_root().join("docs").join("figures").join("bench_peers.svg"));
            bench::plot_speedups(&input, &figure).map(|()| ExitCode::SUCCESS)
        }
        Cmd::Bench(a) => set_threads(a.threads).and_then(|()| {
            let req = bench::Request {
                workloads: a.workloads,
                n: a.n,
                d: a.d,
                k: a.k,
                runs: a.runs,
                seed: a.seed,
                json: a.json,
                steps: a.steps,
                sampler: a.sampler,
                method: a.method,
                peer: a.peer,
                peers_dir: a.peers_dir,
                peer_script: a.peer_script,
                rounds: a.rounds,
            };
            bench::run(&req, &mut std::io::stdout().lock()).map(|()| ExitCode::SUCCESS)
        }),
        Cmd::List => {
            list();
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if matches!(e, XtaskError::Usage(_)) { ExitCode::from(2) } else { ExitCode::FAILURE }
        }
    }
}
