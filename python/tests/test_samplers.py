"""gmdiff.sample, output_law and gaussian_error against independent routes: the CLI binary
(bit-identical samples), Monte Carlo moments of the particles against the exact law, and numpy's
closed forms of W2 and KL between Gaussians."""

import json
import os
import subprocess

import numpy as np
import pytest
from scipy.linalg import sqrtm

import gmdiff


def cli():
    """The `gmdiff` binary: $GMDIFF_CLI (scripts/test-python.sh sets it). Absent, the test FAILS."""
    path = os.environ.get("GMDIFF_CLI")
    if not path or not os.path.isfile(path):
        pytest.fail("GMDIFF_CLI must name the gmdiff CLI binary (e.g. target/debug/gmdiff after `cargo build --bin gmdiff`); "
                    "scripts/test-python.sh sets it. The determinism tests cannot run without it.")
    return path


def write_mixture(tmp_path, w, mu, cov):
    """The mixture as the CLI's JSON with full covariances (Python's repr round-trips every float)."""
    p = tmp_path / "m.json"
    p.write_text(json.dumps({"weights": list(map(float, w)), "means": np.asarray(mu).tolist(), "covariances": np.asarray(cov).tolist()}))
    return p


def run_cli(tmp_path, *args):
    out = tmp_path / "x.npy"
    r = subprocess.run([cli(), "sample", *args, "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return np.load(out)


# Every sampler the CLI knows, and some paths and grids (DDPM needs steps > beta_max T = 20 on VP).
CASES = [(s, "vp", None, 30 if s == "ddpm" else 8) for s in gmdiff.SAMPLERS] + [
    ("ddim", "edm", "karras", 6), ("heun", "flow", "uniform", 5), ("euler-a", "ve", "log-snr", 6),
    ("dpmpp2m", "sub-vp", "quadratic", 6), ("ddim", "vp-cosine", None, 6), ("ddpm", "ou", None, 12)]


@pytest.mark.parametrize("sampler,path,grid,steps", CASES)
def test_sample_bit_identical_to_cli(tmp_path, mix2, sampler, path, grid, steps):
    m, (w, mu, cov) = mix2
    f = write_mixture(tmp_path, w, mu, cov)
    args = ["--mixture", str(f), "--sampler", sampler, "--steps", str(steps), "--count", "40", "--seed", "7", "--process", path]
    if grid:
        args += ["--grid", grid]
    ref = run_cli(tmp_path, *args)
    x = gmdiff.sample(m, sampler=sampler, steps=steps, n=40, seed=7, path=path, grid=grid)
    assert x.shape == (40, 2)
    np.testing.assert_array_equal(x, ref)


def test_sample_options_bit_identical_to_cli(tmp_path, mix2):
    m, (w, mu, cov) = mix2
    f = write_mixture(tmp_path, w, mu, cov)
    ref = run_cli(tmp_path, "--mixture", str(f), "--sampler", "ddim", "--eta", "0.5", "--steps", "10", "--count", "30", "--seed", "2",
                  "--init", "exact")
    np.testing.assert_array_equal(gmdiff.sample(m, sampler="ddim", eta=0.5, steps=10, n=30, seed=2, init="exact"), ref)


def test_exact_sampler_bit_identical_to_cli(tmp_path, mix2):
    m, (w, mu, cov) = mix2
    f = write_mixture(tmp_path, w, mu, cov)
    ref = run_cli(tmp_path, "--mixture", str(f), "--sampler", "exact", "--count", "50", "--seed", "9")
    np.testing.assert_array_equal(gmdiff.sample(m, sampler="exact", n=50, seed=9), ref)
    np.testing.assert_array_equal(m.sample(50, seed=9), ref)


def test_gaussian_error_matches_cli(tmp_path):
    """The dict of gaussian_error equals the JSON of `gmdiff gaussian-error --law` (shortest round-trip floats)."""
    mean, cov = np.array([0.5, -1.0]), np.array([[1.0, 0.3], [0.3, 2.0]])
    (tmp_path / "mean.csv").write_text(",".join(repr(float(v)) for v in mean) + "\n")
    (tmp_path / "cov.csv").write_text("\n".join(",".join(repr(float(v)) for v in row) for row in cov) + "\n")
    r = subprocess.run([cli(), "gaussian-error", "--mean", str(tmp_path / "mean.csv"), "--covariance", str(tmp_path / "cov.csv"),
                        "--sampler", "dpmpp2m", "--steps", "12", "--law"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ref = json.loads(r.stdout)
    got = gmdiff.gaussian_error(mean, cov, sampler="dpmpp2m", steps=12)
    assert (got["w2"], got["kl"], got["score_evals"]) == (ref["w2"], ref["kl"], ref["score_evals"])
    np.testing.assert_array_equal(got["law"]["mean"], ref["law"]["mean"])
    np.testing.assert_array_equal(got["law"]["covariance"], ref["law"]["covariance"])


def bures(m1, s1, m2, s2):
    """W2 between Gaussians: |m1 - m2|^2 + tr(S1 + S2 - 2 (S2^1/2 S1 S2^1/2)^1/2), by scipy's sqrtm."""
    r = sqrtm(s2)
    cross = np.real(sqrtm(r @ s1 @ r))
    return np.sqrt(max(np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2 * cross), 0.0))


def kl(m1, s1, m2, s2):
    """KL(N1 || N2) = (tr(S2^-1 S1) + (m2-m1)^T S2^-1 (m2-m1) - d + log det S2 - log det S1) / 2."""
    inv = np.linalg.inv(s2)
    dm = m2 - m1
    return 0.5 * (np.trace(inv @ s1) + dm @ inv @ dm - len(m1) + np.linalg.slogdet(s2)[1] - np.linalg.slogdet(s1)[1])


@pytest.mark.parametrize("sampler,steps", [("ddim", 10), ("ddpm", 40), ("heun", 6), ("dpmpp2m", 8), ("euler-a", 10)])
def test_gaussian_error_is_bures_and_kl_of_the_law(sampler, steps):
    mean, cov = np.array([0.5, -1.0]), np.array([[1.0, 0.3], [0.3, 2.0]])
    r = gmdiff.gaussian_error(mean, cov, sampler=sampler, steps=steps)
    lm, lc = r["law"]["mean"], r["law"]["covariance"]
    om, oc = gmdiff.output_law(mean, cov, sampler=sampler, steps=steps)
    np.testing.assert_array_equal(lm, om)
    np.testing.assert_array_equal(lc, oc)
    assert r["w2"] == pytest.approx(bures(lm, lc, mean, cov), rel=1e-7, abs=1e-10)
    assert r["kl"] == pytest.approx(kl(lm, lc, mean, cov), rel=1e-7, abs=1e-10)


@pytest.mark.parametrize("sampler,path,steps", [("ddim", "vp", 10), ("ddpm", "vp", 30), ("euler-a", "edm", 8), ("heun", "flow", 5)])
def test_output_law_matches_particles(sampler, path, steps):
    """The exact law against 200,000 particles of the same sampler: mean within 5 standard errors, covariance within 5 sigma."""
    mean, cov = np.array([1.0, -0.5]), np.array([[0.8, -0.2], [-0.2, 0.4]])
    m = gmdiff.GaussianMixture([1.0], [mean], [cov])
    lm, lc = gmdiff.output_law(mean, cov, sampler=sampler, steps=steps, path=path, eps=1e-3)
    n = 200_000
    x = gmdiff.sample(m, sampler=sampler, steps=steps, n=n, seed=5, path=path, eps=1e-3)
    np.testing.assert_array_less(np.abs(x.mean(0) - lm), 5 * np.sqrt(np.diag(lc) / n))
    sd = np.sqrt((np.outer(np.diag(lc), np.diag(lc)) + lc ** 2) / n)  # sd of a Gaussian sample covariance entry
    np.testing.assert_array_less(np.abs(np.cov(x.T) - lc), 5 * sd)


def test_spectrum_variances_match_dense():
    """Centred diagonal data: the spectral lane variances equal the dense law's diagonal."""
    spec = np.array([0.5, 1.0, 2.0])
    v = gmdiff.output_law(spectrum=spec, sampler="ddim", steps=10)
    _, c = gmdiff.output_law(np.zeros(3), np.diag(spec), sampler="ddim", steps=10)
    np.testing.assert_allclose(v, np.diag(c), rtol=1e-12)
    np.testing.assert_allclose(c - np.diag(np.diag(c)), 0, atol=1e-15)
    r = gmdiff.gaussian_error(spectrum=spec, sampler="ddim", steps=10)
    assert r["w2"] == pytest.approx(np.sqrt(np.sum((np.sqrt(v) - np.sqrt(spec)) ** 2)), rel=1e-10)


def test_exact_ode_has_no_discretisation_error():
    """The exact probability-flow ODE from the exact start transports p_T to p_0: W2 = 0 (to rounding)."""
    r = gmdiff.gaussian_error(np.zeros(2), np.diag([0.5, 2.0]), sampler="ode", init="exact")
    assert r["w2"] < 1e-10 and "law" not in r


def test_sample_output_is_a_view_of_one_buffer(mix2):
    """A 10^6-particle call: the array does not own a copy; it views the library's matrix (one copy, in the library)."""
    m, _ = mix2
    x = gmdiff.sample(m, sampler="ddim", steps=2, n=1_000_000, seed=1)
    assert x.shape == (1_000_000, 2) and not x.flags.owndata and x.base is not None
