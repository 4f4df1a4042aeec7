//! Times the exact laws on the ADSN spectrum (d = 196 608): every built-in sampler, 1000 steps,
//! ε = 1e-3, from N(0, I). Two columns per sampler, each the median of `REPEATS` runs, as wall-clock
//! time and as CPU time (all threads; on a shared machine the CPU time divided by the cores is the
//! steadier estimate of the wall time on a quiet one):
//! - `scheme`: [`SpectralProblem::scheme`] (distinct eigenvalues only, blocks of lanes in parallel,
//!   W2 included), the cost bound of issues 12 and 13 ("at most 0.2 s per sampler");
//! - `output_law`: one [`gmdiff_solvers::output_law`] over all d eigenvalues (no deduplication;
//!   the lane engine runs its blocks in parallel).
//!
//! Usage: `cargo run --release -p gmdiff-gaussian --example adsn_timing [SPECTRUM.npy] [REPEATS] [NAMES] [COLUMNS]`
//! (default `data/adsn_fabric_eigenvalues.npy`, shipped in the repository; 3 repeats; `NAMES` a
//! comma-separated list of samplers, default all built-ins; `COLUMNS` `scheme`, `law` or `both`,
//! the default).
//!
//! A timing tool, not a check: it takes an argument and measures wall-clock time, so it asserts
//! nothing and `cargo test` does not run it. The W2 values it prints are checked elsewhere
//! (`w2_error_table` and the crate's tests).
use gmdiff_gaussian::{Init, SpectralProblem, SpectralScore, read_spectrum};
use gmdiff_solvers::{Builtin, Diag, LawStart, Schedule, SpectralGaussian, output_law};
use std::time::Instant;

/// CPU time of this process so far, all threads, in seconds (Linux: the sum of each thread's
/// `schedstat` run time; `NaN` where unavailable).
fn cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return f64::NAN };
    let mut ns = 0u64;
    for t in tasks.flatten() {
        let stat = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
        ns += stat.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    }
    ns as f64 * 1e-9
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The result of the last run, and the median wall-clock and CPU seconds of `repeats` runs.
fn timed<T>(repeats: usize, mut f: impl FnMut() -> T) -> (T, f64, f64) {
    let mut out = None;
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        let (t0, c0) = (Instant::now(), cpu_seconds());
        let r = f();
        wall.push(t0.elapsed().as_secs_f64());
        cpu.push(cpu_seconds() - c0);
        out = Some(r);
    }
    (out.expect("repeats ≥ 1"), median(wall), median(cpu))
}

fn main() {
    let path =
        std::env::args().nth(1).unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/adsn_fabric_eigenvalues.npy").into());
    let repeats: usize = std::env::args().nth(2).map_or(3, |r| r.parse().expect("REPEATS is a positive integer")).max(1);
    let names: Vec<String> = std::env::args()
        .nth(3)
        .map_or_else(|| Builtin::NAMES.iter().map(|s| s.to_string()).collect(), |n| n.split(',').map(String::from).collect());
    let spectrum = match read_spectrum(std::path::Path::new(&path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let p = SpectralProblem::centred(spectrum.clone()).expect("valid spectrum");
    let all = SpectralGaussian::centred(spectrum).expect("valid spectrum");
    let columns = std::env::args().nth(4).unwrap_or_else(|| "both".into());
    if !["scheme", "law", "both"].contains(&columns.as_str()) {
        eprintln!("error: COLUMNS is scheme, law or both, not `{columns}`");
        std::process::exit(2);
    }
    let (do_scheme, do_law) = (columns != "law", columns != "scheme");
    println!("d = {}, distinct eigenvalues = {}, median of {repeats}, {} threads", p.dim(), p.lanes(), rayon::current_num_threads());
    let sched = Schedule::uniform_vp(1000, 1e-3).expect("grid");
    let total = Instant::now();
    for s in &names {
        let Some(sampler) = Builtin::from_name(s) else {
            eprintln!("error: unknown sampler `{s}`");
            std::process::exit(2);
        };
        let mut line = format!("{s:>8}:");
        if do_scheme {
            let (r, t, c) = timed(repeats, || p.scheme(&sampler, &sched, Init::Standard, &SpectralScore::Exact, false).expect("run"));
            line += &format!("  W2 = {:.6}  scheme {t:.4} s (cpu {c:.4} s)", r.w2);
        }
        if do_law {
            let (_, t, c) = timed(repeats, || output_law(&sampler, &sched, &all, LawStart::<Diag>::Standard, |_, _| Ok(())).expect("law"));
            line += &format!("  output_law {t:.4} s (cpu {c:.4} s)");
        }
        println!("{line}");
    }
    println!("all samplers: {:.3} s", total.elapsed().as_secs_f64());
}
