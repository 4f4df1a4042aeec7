"""Metrics against independent routes: closed forms by numpy/scipy, scipy's assignment solver and
energy distance, direct numpy sums for MMD, POT where installed."""

import numpy as np
import pytest
from scipy.linalg import sqrtm
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from scipy.stats import energy_distance as scipy_energy, multivariate_normal, norm

import gmdiff
from test_samplers import bures, kl

RNG = np.random.default_rng(42)
M1, S1 = np.array([0.0, 1.0]), np.array([[1.0, 0.3], [0.3, 0.5]])
M2, S2 = np.array([1.0, -1.0]), np.array([[2.0, -0.4], [-0.4, 1.0]])


def test_bures_w2_closed_form():
    assert gmdiff.bures_w2(M1, S1, M2, S2) == pytest.approx(bures(M1, S1, M2, S2), rel=1e-12)


def test_kl_gaussian_closed_form():
    assert gmdiff.kl_gaussian(M1, S1, M2, S2) == pytest.approx(kl(M1, S1, M2, S2), rel=1e-12)


def test_gaussian_entropy_scipy():
    assert gmdiff.gaussian_entropy(S2) == pytest.approx(multivariate_normal(M2, S2).entropy(), rel=1e-13)


def test_bures_w2_fitted_is_bures_of_the_fits():
    x, y = RNG.normal(size=(300, 2)), RNG.normal(size=(200, 2)) * 1.5 + 1
    ref = bures(x.mean(0), np.cov(x.T), y.mean(0), np.cov(y.T))
    assert gmdiff.bures_w2_fitted(x, y) == pytest.approx(ref, rel=1e-9)


def test_w2_exact_is_the_optimal_assignment():
    """Equal sizes, uniform weights: the optimal plan is a permutation (Birkhoff), found by scipy's Hungarian solver."""
    x, y = RNG.normal(size=(60, 3)), RNG.normal(size=(60, 3)) + 0.5
    c = cdist(x, y, "sqeuclidean")
    r, k = linear_sum_assignment(c)
    assert gmdiff.w2_exact(x, y) == pytest.approx(np.sqrt(c[r, k].mean()), rel=1e-12)


def test_w2_exact_weighted_against_pot():
    ot = pytest.importorskip("ot", reason="POT (pip install pot) is not installed: the weighted exact-W2 check against ot.emd2 is skipped")
    x, y = RNG.normal(size=(30, 2)), RNG.normal(size=(40, 2))
    a, b = RNG.random(30), RNG.random(40)
    a, b = a / a.sum(), b / b.sum()
    assert gmdiff.w2_exact(x, y, a, b) == pytest.approx(np.sqrt(ot.emd2(a, b, cdist(x, y, "sqeuclidean"))), rel=1e-9)


def test_w2_sliced_in_one_dimension_is_the_sorted_coupling():
    """In 1-D every direction is +-1, so sliced W2 is the 1-D W2: sorted samples matched in order."""
    x, y = RNG.normal(size=(100, 1)), RNG.normal(size=(100, 1)) * 2
    d, _ = gmdiff.w2_sliced(x, y, projections=5, seed=1)
    assert d == pytest.approx(np.sqrt(np.mean((np.sort(x[:, 0]) - np.sort(y[:, 0])) ** 2)), rel=1e-12)


def test_mmd_direct_sums():
    x, y, h = RNG.normal(size=(40, 2)), RNG.normal(size=(50, 2)) + 0.3, 0.9
    k = lambda a, b: np.exp(-cdist(a, b, "sqeuclidean") / (2 * h * h))  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = len(x), len(y)
    unbiased = (kxx.sum() - n) / (n * (n - 1)) + (kyy.sum() - m) / (m * (m - 1)) - 2 * kxy.mean()
    biased = kxx.mean() + kyy.mean() - 2 * kxy.mean()
    r = gmdiff.mmd(x, y, bandwidth=h)
    assert r["mmd2"] == pytest.approx(unbiased, rel=1e-10)
    assert r["mmd2_biased"] == pytest.approx(biased, rel=1e-10)
    assert r["p_value"] is None
    p = gmdiff.mmd(x, y, bandwidth=h, permutations=99, seed=3)["p_value"]
    assert 0.0 < p <= 1.0


def test_energy_distance_is_scipys_in_one_dimension():
    x, y = RNG.normal(size=70), RNG.normal(size=90) + 0.5
    r = gmdiff.energy_distance(x[:, None], y[:, None])
    assert r["distance"] == pytest.approx(scipy_energy(x, y), rel=1e-12)


def test_mixture_kl_tv_entropy_w2_of_single_gaussians():
    """One-component mixtures: MC estimates within 5 standard errors of the closed forms; MW2 equals Bures."""
    p = gmdiff.GaussianMixture([1.0], [M1], [S1])
    q = gmdiff.GaussianMixture([1.0], [M2], [S2])
    est, se = gmdiff.mixture_kl(p, q, samples=50_000, seed=1)
    assert abs(est - kl(M1, S1, M2, S2)) < 5 * se
    est, se = gmdiff.mixture_entropy(p, samples=50_000, seed=2)
    assert abs(est - multivariate_normal(M1, S1).entropy()) < 5 * se
    assert gmdiff.mixture_w2(p, q) == pytest.approx(bures(M1, S1, M2, S2), rel=1e-9)
    # TV between N(0, 1) and N(1, 1) in 1-D: 2 Phi(1/2) - 1.
    a, b = gmdiff.GaussianMixture([1.0], [[0.0]], [1.0]), gmdiff.GaussianMixture([1.0], [[1.0]], [1.0])
    est, se = gmdiff.mixture_tv(a, b, samples=50_000, seed=3)
    assert abs(est - (2 * norm.cdf(0.5) - 1)) < 5 * se
