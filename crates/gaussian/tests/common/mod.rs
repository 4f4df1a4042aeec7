//! The covariance spectra shipped in the repository's `data/` (provenance and SHA-256 in
//! `data/README.md`).

use std::path::PathBuf;

/// The path of `data/<name>` at the workspace root.
///
/// Panics with the file's path when it is missing: a test that checks a published number must
/// fail without its input, never pass by skipping.
pub fn data_file(name: &str) -> PathBuf {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data")).join(name);
    assert!(
        path.is_file(),
        "{} is missing: the repository ships it in data/ (see data/README.md); restore it with `git checkout -- data/`",
        path.display()
    );
    path
}
