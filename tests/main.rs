//! All integration tests of this package in one binary: each file of `tests/` is a module, so the
//! workspace and its generic dependencies are compiled and linked once, not once per file (issue 15:
//! a faster test command). Run one file with `cargo test -p PACKAGE --test integration FILE::`.

mod cli_conformance;
mod cli_density;
mod cli_errors;
mod cli_faults_metrics;
mod cli_gaussian_error;
mod cli_gaussian_error_faults;
mod cli_guide;
mod cli_kernel;
mod cli_metrics;
mod cli_parity;
mod cli_paths;
mod cli_sample;
mod cli_smoothness;
mod common;
mod constructors;
#[path = "../crates/metrics/tests/hungarian/mod.rs"]
mod hungarian;
mod peer_samplers;
mod unit_test_harnesses;
