//! `gmdiff mmd` and `gmdiff energy`: the JSON they print is what the library computes (bit for
//! bit), `--permutations 0` gives the statistics alone, and bad input is one `error:` line with
//! status 2.

use crate::common;
use common::*;
use gmdiff::metrics::{Bandwidth, PermutationOptions, energy_test, mmd_test};

/// A deterministic cloud (additive recurrence) in `d` dimensions, as CSV text.
fn cloud(n: usize, d: usize, shift: f64, seed: u64) -> String {
    (0..n)
        .map(|i| {
            (0..d)
                .map(|j| {
                    let u = ((i as f64 + 1.0) * (0.754_877_666 + 0.569_840_29 * j as f64 + 0.1 * seed as f64)).fract();
                    format!("{:e}", shift + 4.0 * u - 2.0)
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn ok(args: &[&str]) -> serde_json::Value {
    let r = gmdiff(args);
    assert_eq!(r.status, 0, "{args:?}: {}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    json(&r.stdout)
}

fn opts(permutations: usize, seed: u64) -> PermutationOptions<'static> {
    PermutationOptions { permutations, seed, progress: None }
}

#[test]
fn mmd_and_energy_print_what_the_library_computes() {
    let dir = scratch("kernel");
    // 300 + 250 points: more than one 256-row block of the streamed kernel matrix.
    let (xs, ys) = (cloud(300, 3, 0.0, 1), cloud(250, 3, 0.3, 2));
    std::fs::write(dir.join("x.csv"), &xs).unwrap();
    std::fs::write(dir.join("y.csv"), &ys).unwrap();
    let x = gmdiff::io::parse_points_csv(xs.as_bytes()).unwrap();
    let y = gmdiff::io::parse_points_csv(ys.as_bytes()).unwrap();
    let (xp, yp) = (dir.join("x.csv").display().to_string(), dir.join("y.csv").display().to_string());

    // Defaults: median bandwidth, 200 permutations, seed 0.
    let out = ok(&["mmd", &xp, &yp]);
    let t = mmd_test(x.as_ref(), y.as_ref(), Bandwidth::Median, &opts(200, 0)).unwrap();
    assert_eq!(out["mmd2"].as_f64(), Some(t.mmd2));
    assert_eq!(out["mmd2_biased"].as_f64(), Some(t.mmd2_biased));
    assert_eq!(out["bandwidth"].as_f64(), Some(t.bandwidth));
    assert_eq!(out["bandwidth"].as_f64(), Some(gmdiff::metrics::median_bandwidth(x.as_ref(), y.as_ref()).unwrap()));
    assert_eq!(out["bandwidth_rule"], "median");
    assert_eq!(out["p_value"].as_f64(), t.p_value);
    assert_eq!(out["p_value_biased"].as_f64(), t.p_value_biased);
    assert_eq!(
        (out["n"].as_u64(), out["m"].as_u64(), out["d"].as_u64(), out["permutations"].as_u64()),
        (Some(300), Some(250), Some(3), Some(200))
    );

    // Fixed bandwidth, other seed.
    let out = ok(&["mmd", &xp, &yp, "--bandwidth", "0.75", "--permutations", "49", "--seed", "9"]);
    let t = mmd_test(x.as_ref(), y.as_ref(), Bandwidth::Fixed(0.75), &opts(49, 9)).unwrap();
    assert_eq!(
        (out["mmd2"].as_f64(), out["p_value"].as_f64(), out["p_value_biased"].as_f64()),
        (Some(t.mmd2), t.p_value, t.p_value_biased)
    );
    assert_eq!((out["bandwidth"].as_f64(), &out["bandwidth_rule"]), (Some(0.75), &serde_json::json!("fixed")));

    // The statistic alone: the same MMD², and null p-values.
    let alone = ok(&["mmd", &xp, &yp, "--bandwidth", "0.75", "--permutations", "0"]);
    assert_eq!(alone["mmd2"], out["mmd2"]);
    assert_eq!(alone["mmd2_biased"], out["mmd2_biased"]);
    assert!(alone["p_value"].is_null() && alone["p_value_biased"].is_null());
    assert_eq!(alone["permutations"].as_u64(), Some(0));

    // Energy: the distance alone by default, a test on request.
    let e = ok(&["energy", &xp, &yp]);
    let t = energy_test(x.as_ref(), y.as_ref(), &opts(0, 0)).unwrap();
    assert_eq!((e["energy_distance"].as_f64(), e["energy_distance_sq"].as_f64()), (Some(t.distance), Some(t.distance_sq)));
    assert_eq!(e["energy_distance"].as_f64(), Some(gmdiff::metrics::energy_distance(x.as_ref(), y.as_ref()).unwrap()));
    assert!(e["p_value"].is_null());
    let e = ok(&["energy", &xp, &yp, "--permutations", "99", "--seed", "3"]);
    let t = energy_test(x.as_ref(), y.as_ref(), &opts(99, 3)).unwrap();
    assert_eq!((e["energy_distance_sq"].as_f64(), e["p_value"].as_f64()), (Some(t.distance_sq), t.p_value));

    // The output does not depend on the number of threads.
    let run_with = |threads: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gmdiff"))
            .args(["mmd", &xp, &yp, "--permutations", "30", "--seed", "5"])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run_with("1"), run_with("2"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bad_input_is_one_error_line_and_status_2() {
    let dir = scratch("kernel-errors");
    let good = "0,0\n1,1\n2,0\n";
    let files: &[(&str, &str)] = &[
        ("x.csv", good),
        ("y.csv", "0,1\n1,2\n"),
        ("y3.csv", "0,1,2\n1,2,3\n"),
        ("empty.csv", ""),
        ("nan.csv", "0,NaN\n1,1\n"),
        ("inf.csv", "0,1e999\n1,1\n"),
        ("one.csv", "0,0\n"),
        ("huge.csv", "1e200,0\n-1e200,0\n"),
        ("same.csv", "1,1\n1,1\n1,1\n"),
        ("ragged.csv", "0,0\n1\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let p = |name: &str| dir.join(name).display().to_string();
    let (x, y) = (p("x.csv"), p("y.csv"));
    let cases: Vec<(Vec<String>, &str)> = [
        (vec!["mmd", &x, &p("y3.csv")], "dimension"),
        (vec!["energy", &x, &p("y3.csv")], "dimension"),
        (vec!["mmd", &p("empty.csv"), &y], "empty"),
        (vec!["energy", &x, &p("empty.csv")], "empty"),
        (vec!["mmd", &x, &p("missing.csv")], "missing.csv"),
        (vec!["energy", &p("missing.csv"), &y], "missing.csv"),
        (vec!["mmd", &p("nan.csv"), &y], "not finite"),
        (vec!["energy", &x, &p("inf.csv")], "not finite"),
        (vec!["mmd", &x, &p("ragged.csv")], "expected 2 values"),
        (vec!["mmd", &p("one.csv"), &y], "empty or too small"),
        (vec!["mmd", &x, &y, "--bandwidth", "-1"], "bandwidth"),
        (vec!["mmd", &x, &y, "--bandwidth", "0"], "bandwidth"),
        (vec!["mmd", &x, &y, "--bandwidth", "NaN"], "bandwidth"),
        (vec!["mmd", &x, &y, "--bandwidth", "inf"], "bandwidth"),
        (vec!["mmd", &x, &y, "--bandwidth", "1e-170"], "overflow"),
        (vec!["mmd", &x, &y, "--bandwidth", "wide"], "wide"),
        (vec!["mmd", &x, &y, "--permutations", "-3"], "-3"),
        (vec!["energy", &x, &y, "--permutations", "many"], "many"),
        (vec!["mmd", &x, &y, "--seed", "-1"], "-1"),
        (vec!["mmd", &p("same.csv"), &p("same.csv")], "median pooled pairwise distance is 0"),
        (vec!["mmd", &p("huge.csv"), &y], "overflow"),
        (vec!["energy", &p("huge.csv"), &y, "--permutations", "5"], "overflow"),
        (vec!["mmd", &x], "required"),
        (vec!["energy", &x, &y, "--bandwidth", "1"], "--bandwidth"),
    ]
    .into_iter()
    .map(|(a, says)| (a.into_iter().map(String::from).collect(), says))
    .collect();
    let mut failures = Vec::new();
    for (args, says) in &cases {
        let run = gmdiff(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let lines: Vec<&str> = run.stderr.lines().collect();
        let good = run.status == 2
            && run.stdout.is_empty()
            && lines.len() == 1
            && lines[0].starts_with("error:")
            && !run.stderr.contains("panicked")
            && lines[0].to_lowercase().contains(&says.to_lowercase());
        if !good {
            failures.push(format!("{args:?}: status {}, stderr {:?}, stdout {:?}", run.status, run.stderr, run.stdout));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(failures.is_empty(), "{} of {} cases misbehaved:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
