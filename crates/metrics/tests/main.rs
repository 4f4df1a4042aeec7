//! All integration tests of this package in one binary: each file of `tests/` is a module, so the
//! workspace and its generic dependencies are compiled and linked once, not once per file (issue 15:
//! a faster test command). Run one file with `cargo test -p PACKAGE --test integration FILE::`.

mod bures_accuracy;
mod common;
mod exact_ot;
mod exact_ot_scales;
mod gaussian;
mod hungarian;
mod isotropic_tv;
mod kernel;
mod mixture;
mod onedim_masses;
mod pot_peer;
mod properties;
