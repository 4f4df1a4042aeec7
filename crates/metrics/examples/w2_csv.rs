//! Reads two point clouds from CSV files (one point per row, comma separated, no header) and
//! prints `{"w2": .., "seconds": .., "pivots": .., "n": .., "m": .., "d": ..}` for the exact
//! empirical W2 with uniform weights, timing everything after the files are parsed.
//!
//! `cargo run --release -p gmdiff-metrics --example w2_csv -- X.csv Y.csv`
//!
//! A tool, not a check: it reads its inputs from the command line and reports a timing, so it
//! asserts nothing and `cargo test` does not run it (the exact W2 is tested in the crate's tests).

use std::time::Instant;

fn read_csv(path: &str) -> Result<faer::Mat<f64>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let row = line
            .split(',')
            .map(|t| t.trim().parse::<f64>().map_err(|e| format!("{path}:{}: {e}", ln + 1)))
            .collect::<Result<Vec<f64>, String>>()?;
        if rows.first().is_some_and(|first| first.len() != row.len()) {
            return Err(format!("{path}:{}: ragged row", ln + 1));
        }
        rows.push(row);
    }
    let d = rows.first().map_or(0, Vec::len);
    Ok(faer::Mat::from_fn(rows.len(), d, |i, k| rows[i][k]))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: w2_csv X.csv Y.csv");
        std::process::exit(2);
    }
    let run = || -> Result<String, String> {
        let x = read_csv(&args[1])?;
        let y = read_csv(&args[2])?;
        let t = Instant::now();
        let plan = gmdiff_metrics::ot_sq_euclidean(x.as_ref(), None, y.as_ref(), None, Default::default()).map_err(|e| e.to_string())?;
        let seconds = t.elapsed().as_secs_f64();
        Ok(format!(
            "{{\"w2\": {:.17e}, \"seconds\": {seconds:.6}, \"pivots\": {}, \"n\": {}, \"m\": {}, \"d\": {}}}",
            plan.cost.sqrt(),
            plan.pivots,
            x.nrows(),
            y.nrows(),
            x.ncols()
        ))
    };
    match run() {
        Ok(s) => println!("{s}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
