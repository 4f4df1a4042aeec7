//! The spectra in `data/` are the Pierret–Galerne authors' files, byte for byte (data/README.md).
//!
//! Expected values: the SHA-256 digests are those of `code/cifar10.npy` and `code/ADSN.npy` in the
//! authors' repository at commit 8d02029 (data/README.md); the dtypes and lengths are the `.npy`
//! headers of those files; "9 zero eigenvalues" for CIFAR-10 is THEORY §3 (the reason Heun and RK4
//! give W2 = ∞ at ε = 0); the ADSN zero count was made independently with numpy
//! (`np.sum(np.load(f) == 0)`). A corrupted, truncated or Git-LFS-pointer checkout fails here
//! with the digest it found, instead of quietly moving the published-number tests of `paper.rs`.

use crate::common;

use gmdiff_gaussian::read_spectrum;
use sha2::{Digest, Sha256};

struct Shipped {
    name: &'static str,
    sha256: &'static str,
    descr: &'static str,
    len: u64,
    zeros: usize,
}

const CIFAR10: Shipped = Shipped {
    name: "cifar10_cov_eigenvalues.npy",
    sha256: "5c896e4125f16a1e7a76efa10e550dc656506b6bb184d56c340e5098317a6e58",
    descr: "<f4",
    len: 3072,
    zeros: 9,
};

const ADSN: Shipped = Shipped {
    name: "adsn_fabric_eigenvalues.npy",
    sha256: "098952779b1ecb6f142963d768368847edb67302069c1e46056cad0c57ffb176",
    descr: "<f8",
    len: 196_608,
    zeros: 131_072,
};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check(file: &Shipped) {
    let path = common::data_file(file.name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let digest = hex(&Sha256::digest(&bytes));
    assert_eq!(digest, file.sha256, "{} is not the published file (SHA-256 differs); see data/README.md", path.display());

    let npy = npyz::NpyFile::new(&bytes[..]).expect(".npy header");
    let descr = match npy.dtype() {
        npyz::DType::Plain(ty) => ty.to_string(),
        other => other.descr(),
    };
    assert_eq!(descr, file.descr, "{}: dtype", file.name);
    assert_eq!(npy.shape(), &[file.len][..], "{}: shape", file.name);

    // Our reader sees the same values: as many, finite, non-negative (CIFAR-10 stores its zeros
    // as -0.0, which is ≥ 0).
    let values = read_spectrum(&path).unwrap();
    assert_eq!(values.len() as u64, file.len);
    assert!(values.iter().all(|v| v.is_finite() && *v >= 0.0), "{}: a negative or non-finite eigenvalue", file.name);
    assert_eq!(values.iter().filter(|v| **v == 0.0).count(), file.zeros, "{}: number of zero eigenvalues", file.name);
}

#[test]
fn cifar10_spectrum_is_the_published_file() {
    check(&CIFAR10);
}

#[test]
fn adsn_spectrum_is_the_published_file() {
    check(&ADSN);
}

#[test]
fn sha256_of_a_known_message() {
    // FIPS 180-2, appendix B.1: SHA-256("abc"). Guards the hex encoding used above.
    assert_eq!(hex(&Sha256::digest(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
