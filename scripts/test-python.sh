#!/usr/bin/env bash
# The Python package's tests, run by the README's test command and CI (.ci/run) after
# `cargo test --workspace`: builds the extension with the `test` profile, so it reuses the
# dependency artifacts that command compiled (only PyO3, rust-numpy and the binding crate are
# new), installs it with its Python files into the virtualenv .venv-ci/ (git-ignored; the pinned
# numpy, scipy and pytest), and runs pytest python/tests with GMDIFF_CLI set to the CLI binary of
# the same build (the determinism tests compare against it).
#
# Users install the package with `pip install ./python` (maturin, release build); this script
# instead places the same files (gmdiff/__init__.py, the stubs, py.typed and _gmdiff.abi3.so) by
# hand, because maturin's `--profile test` builds a test harness (cargo rustc's test mode), and a
# release build would recompile every dependency (Linux only: the .so name).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$(pwd)/$target" ;; esac
venv=.venv-ci
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check numpy==2.4.6 scipy==1.17.1 pytest==9.2.0 maturin==1.16.0
# `--workspace --tests` resolves features exactly as `cargo test --workspace` did (dev-dependencies
# included), so every artifact it built is reused: the new work is PyO3, rust-numpy and the
# extension crate (gmdiff-python's lib, which `cargo test` does not build: it has no Rust tests).
cargo build --profile test --workspace --lib --tests --bin gmdiff
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
rm -rf "$site/gmdiff"
mkdir -p "$site/gmdiff"
cp python/gmdiff/__init__.py python/gmdiff/_gmdiff.pyi python/gmdiff/py.typed "$site/gmdiff/"
cp "$target/debug/lib_gmdiff.so" "$site/gmdiff/_gmdiff.abi3.so"
GMDIFF_CLI="$target/debug/gmdiff" "$venv/bin/python" -m pytest -q python/tests
