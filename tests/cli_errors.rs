//! Table of bad inputs for the CLI: each must print exactly one line on stderr starting with
//! `error:`, print nothing on stdout, and exit with status 2 — never a panic.

mod common;
use common::*;

const GOOD_MIXTURE: &str = r#"{"weights":[0.4,0.6],"means":[[0,0],[1,1]],"covariances":[[[1,0.2],[0.2,1]],[[0.5,0],[0,0.5]]]}"#;
const GOOD_POINTS: &str = "0,0\n1,2\n";

/// One bad-input case: a name, files to create (name, contents), and the arguments, where
/// `{dir}` stands for the scratch directory.
struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    /// A fragment the error line must contain (case-insensitive).
    says: &'static str,
}

const DENSITY: &[&str] = &["--mixture", "{dir}/m.json", "--time", "0.5", "--points", "{dir}/p.csv"];

fn cases() -> Vec<Case> {
    let good: &'static [(&str, &str)] = &[("m.json", GOOD_MIXTURE), ("p.csv", GOOD_POINTS)];
    let with_mixture = |m: &'static str| -> &'static [(&'static str, &'static str)] {
        Box::leak(vec![("m.json", m), ("p.csv", GOOD_POINTS)].into_boxed_slice())
    };
    let with_points = |p: &'static str| -> &'static [(&'static str, &'static str)] {
        Box::leak(vec![("m.json", GOOD_MIXTURE), ("p.csv", p)].into_boxed_slice())
    };
    let mut v = Vec::new();
    for cmd in ["score", "logpdf"] {
        let args = |extra: &[&'static str], time: &'static str| -> &'static [&'static str] {
            let mut a = vec![cmd];
            a.extend(DENSITY.iter().map(|s| if *s == "0.5" { time } else { s }));
            a.extend_from_slice(extra);
            Box::leak(a.into_boxed_slice())
        };
        v.extend([
            Case { name: "missing mixture file", files: &[("p.csv", GOOD_POINTS)], args: args(&[], "0.5"), says: "m.json" },
            Case { name: "malformed JSON", files: with_mixture("{\"weights\": [1.0"), args: args(&[], "0.5"), says: "m.json" },
            Case { name: "negative weight", files: with_mixture(r#"{"weights":[-0.5,1.5],"means":[[0,0],[1,1]],"covariances":[1,1]}"#), args: args(&[], "0.5"), says: "negative" },
            Case { name: "weights not normalised", files: with_mixture(r#"{"weights":[0.5,0.6],"means":[[0,0],[1,1]],"covariances":[1,1]}"#), args: args(&[], "0.5"), says: "sum" },
            Case { name: "non-symmetric covariance", files: with_mixture(r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,0.5],[0.1,1]]]}"#), args: args(&[], "0.5"), says: "symmetric" },
            Case { name: "indefinite covariance", files: with_mixture(r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,3],[3,1]]]}"#), args: args(&[], "0.5"), says: "semi-definite" },
            Case { name: "k = 0", files: with_mixture(r#"{"weights":[],"means":[],"covariances":[]}"#), args: args(&[], "0.5"), says: "k = 0" },
            Case { name: "d = 0", files: with_mixture(r#"{"weights":[1],"means":[[]],"covariances":[1]}"#), args: args(&[], "0.5"), says: "d = 0" },
            Case { name: "mean/covariance dimension mismatch", files: with_mixture(r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,0,0],[0,1,0],[0,0,1]]]}"#), args: args(&[], "0.5"), says: "mismatch" },
            Case { name: "huge mean overflows the quadratic form", files: with_mixture(r#"{"weights":[1],"means":[[1e308,0]],"covariances":[1]}"#), args: args(&[], "0.5"), says: "too far" },
            Case { name: "NaN in JSON is not JSON", files: with_mixture(r#"{"weights":[1],"means":[[NaN,0]],"covariances":[1]}"#), args: args(&[], "0.5"), says: "m.json" },
            Case { name: "points of the wrong dimension", files: with_points("1,2,3\n"), args: args(&[], "0.5"), says: "dimension" },
            Case { name: "NaN in points", files: with_points("0,NaN\n"), args: args(&[], "0.5"), says: "not finite" },
            Case { name: "inf in points", files: with_points("inf,0\n"), args: args(&[], "0.5"), says: "not finite" },
            Case { name: "text in points", files: with_points("0,abc\n"), args: args(&[], "0.5"), says: "not a number" },
            Case { name: "ragged points", files: with_points("0,1\n2\n"), args: args(&[], "0.5"), says: "expected 2" },
            Case { name: "empty points file", files: with_points(""), args: args(&[], "0.5"), says: "empty" },
            Case { name: "point too far for f64", files: with_points("1e300,0\n"), args: args(&[], "0.5"), says: "too far" },
            Case { name: "t above T", files: good, args: args(&[], "1.5"), says: "outside" },
            Case { name: "negative t", files: good, args: args(&[], "-0.1"), says: "outside" },
            Case { name: "NaN t", files: good, args: args(&[], "NaN"), says: "outside" },
            Case { name: "t above OU horizon", files: good, args: args(&["--process", "ou", "--horizon", "2"], "2.5"), says: "outside" },
            Case { name: "bad beta", files: good, args: args(&["--beta-min", "-1"], "0.5"), says: "beta_min" },
            Case { name: "zero horizon", files: good, args: args(&["--horizon", "0"], "0.5"), says: "T" },
            Case { name: "unknown process", files: good, args: args(&["--process", "vq"], "0.5"), says: "vq" },
            Case { name: "time not a number", files: good, args: args(&[], "soon"), says: "soon" },
            Case { name: "singular covariance at t = 0", files: with_mixture(r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,1],[1,1]]]}"#), args: args(&[], "0"), says: "singular" },
        ]);
    }
    let clouds: &'static [(&str, &str)] = &[("x.csv", "0,0\n1,1\n2,0\n"), ("y.csv", "0,1\n1,2\n")];
    let ragged: &'static [(&str, &str)] = &[("x.csv", "0,0\n1,1\n"), ("y.csv", "0,1,2\n1,2,3\n")];
    let empty: &'static [(&str, &str)] = &[("x.csv", ""), ("y.csv", "0,1\n")];
    for cmd in ["w2", "mmd"] {
        let a = |extra: &[&'static str]| -> &'static [&'static str] {
            let mut v = vec![cmd, "{dir}/x.csv", "{dir}/y.csv"];
            v.extend_from_slice(extra);
            Box::leak(v.into_boxed_slice())
        };
        v.extend([
            Case { name: "clouds of different dimensions", files: ragged, args: a(&[]), says: "dimension" },
            Case { name: "empty cloud", files: empty, args: a(&[]), says: "empty" },
            Case { name: "missing cloud file", files: &[("x.csv", "0,0\n")], args: a(&[]), says: "y.csv" },
            Case { name: "NaN in a cloud", files: &[("x.csv", "0,NaN\n"), ("y.csv", "0,1\n")], args: a(&[]), says: "not finite" },
        ]);
    }
    v.extend([
        Case { name: "unknown w2 method", files: clouds, args: &["w2", "{dir}/x.csv", "{dir}/y.csv", "--method", "fast"], says: "fast" },
        Case { name: "zero projections", files: clouds, args: &["w2", "{dir}/x.csv", "{dir}/y.csv", "--method", "sliced", "--projections", "0"], says: "projections" },
        Case { name: "negative bandwidth", files: clouds, args: &["mmd", "{dir}/x.csv", "{dir}/y.csv", "--bandwidth", "-1"], says: "bandwidth" },
        Case { name: "zero permutations", files: clouds, args: &["mmd", "{dir}/x.csv", "{dir}/y.csv", "--permutations", "0"], says: "permutations" },
    ]);
    v.push(Case { name: "unknown subcommand", files: &[], args: &["frobnicate"], says: "frobnicate" });
    v.push(Case { name: "missing required argument", files: &[], args: &["score", "--time", "0.5"], says: "required" });
    v
}

#[test]
fn every_bad_input_is_one_error_line_and_status_2() {
    let dir = scratch("errors");
    let d = dir.display().to_string();
    let mut failures = Vec::new();
    for (i, case) in cases().iter().enumerate() {
        let case_dir = dir.join(i.to_string());
        std::fs::create_dir_all(&case_dir).unwrap();
        for (name, text) in case.files {
            std::fs::write(case_dir.join(name), text).unwrap();
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
            failures.push(format!("{} ({:?}): status {}, stderr {:?}, stdout {:?}", case.name, case.args.first(), run.status, run.stderr, run.stdout));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(failures.is_empty(), "{} bad-input cases misbehaved:\n{}", failures.len(), failures.join("\n"));
}
