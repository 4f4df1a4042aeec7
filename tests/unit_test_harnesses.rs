//! The workspace builds no test harness for the targets that hold no unit tests (`test = false` in
//! their manifests: the process, gaussian and guidance libraries, the root library and CLI binary,
//! the xtask binary), which shortens the test build. A unit test added to one of them would then
//! never run; this check fails instead, naming the file, so that the manifest is changed with it.

use std::path::{Path, PathBuf};

/// The sources compiled without a test harness.
const NO_HARNESS: &[&str] = &["crates/process/src", "crates/gaussian/src", "crates/guidance/src", "src", "xtask/src/main.rs"];

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for e in entries {
            rust_files(&e, out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

#[test]
fn targets_without_a_test_harness_hold_no_unit_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in NO_HARNESS {
        let path = root.join(dir);
        assert!(path.exists(), "{} is missing: update NO_HARNESS", path.display());
        rust_files(&path, &mut files);
    }
    assert!(files.len() > 20, "only {} source files found", files.len());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for marker in ["#[test]", "#[cfg(test)]", "proptest!"] {
            assert!(
                !text.contains(marker),
                "{} contains `{marker}`, but its target is built with `test = false`: set `test = true` in its manifest (or move the test to tests/)",
                f.display()
            );
        }
    }
}
