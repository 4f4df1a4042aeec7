//! All integration tests of this package in one binary: each file of `tests/` is a module, so the
//! workspace and its generic dependencies are compiled and linked once, not once per file (issue 15:
//! a faster test command). Run one file with `cargo test -p PACKAGE --test integration FILE::`.

mod common;
mod conformance;
mod data_files;
mod isotropic_ddpm;
mod k_diffusion_56;
mod laws;
mod paper;
mod properties;
mod spectrum;
mod support;
