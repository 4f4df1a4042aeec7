//! All integration tests of this package in one binary: each file of `tests/` is a module, so the
//! workspace and its generic dependencies are compiled and linked once, not once per file (issue 15:
//! a faster test command). Run one file with `cargo test -p PACKAGE --test integration FILE::`.

mod common;
mod derived;
mod diffusers_laws;
mod diffusers_tables;
mod dpmpp_samplers;
mod lane_engine;
mod laws;
mod multistep_samplers;
mod oracle;
mod particles;
mod path_particles;
mod path_references;
mod prediction_errors;
mod scores;
mod sigma_samplers;
