"""Type stubs of gmdiff._gmdiff (the Rust extension). Shapes: n points, d dimensions, k components."""

from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
F64 = npt.NDArray[np.float64]
PathLike = Union["Path", str]

SAMPLERS: list[str]

class GmdiffError(ValueError): ...
class MixtureError(GmdiffError): ...
class ProcessError(GmdiffError): ...
class PredictionError(GmdiffError): ...
class SolverError(GmdiffError): ...
class MetricsError(GmdiffError): ...
class GaussianError(GmdiffError): ...
class GuidanceError(GmdiffError): ...
class UsageError(GmdiffError): ...
class ShapeError(GmdiffError): ...
class InternalError(RuntimeError): ...

class Path:
    """A forward Gaussian path x_t = a_t x_0 + b_t z: vp (linear beta), vp-cosine, ou, sub-vp, ve, edm, flow.

    Parameters and defaults are the CLI's: beta_min 0.1, beta_max 20 (vp, sub-vp), horizon 1 (vp, ou,
    sub-vp, flow), sigma_min 0.01 (ve), sigma_max 50 (ve) / 80 (edm). Raises ProcessError or UsageError.
    """

    def __init__(
        self,
        kind: str = "vp",
        *,
        beta_min: Optional[float] = None,
        beta_max: Optional[float] = None,
        horizon: Optional[float] = None,
        sigma_min: Optional[float] = None,
        sigma_max: Optional[float] = None,
    ) -> None: ...
    @property
    def kind(self) -> str: ...
    @property
    def horizon(self) -> float: ...
    @property
    def start_std(self) -> float: ...
    def coefficients(self, t: float) -> Tuple[float, float]:
        """(a_t, b_t) at forward time t; ProcessError outside the path's domain."""
    def sigma(self, t: float) -> float:
        """sigma(t) = b_t / a_t."""

class GaussianMixture:
    """sum_i w_i N(mu_i, Sigma_i). weights (k,), means (k, d), covariances (k,) isotropic, (k, d) diagonal or (k, d, d) full.

    Raises MixtureError (weights not summing to 1 within 1e-9, negative weights, non-PSD or
    non-symmetric covariances, non-finite values) or ShapeError.
    """

    def __init__(self, weights: ArrayLike, means: ArrayLike, covariances: ArrayLike) -> None: ...
    @staticmethod
    def from_json(text: str) -> "GaussianMixture": ...
    def to_json(self) -> str: ...
    @property
    def dim(self) -> int: ...
    @property
    def n_components(self) -> int: ...
    def __len__(self) -> int: ...
    @property
    def weights(self) -> F64:
        """(k,)"""
    @property
    def means(self) -> F64:
        """(k, d)"""
    @property
    def covariances(self) -> F64:
        """(k, d, d), dense."""
    def mean(self) -> F64:
        """(d,): sum_i w_i mu_i."""
    def covariance(self) -> F64:
        """(d, d): the mixture's covariance."""
    def logpdf(self, x: ArrayLike) -> F64:
        """log p(x) at each row of x (n, d): (n,). MixtureError if a covariance is singular."""
    def score(self, x: ArrayLike) -> F64:
        """grad log p(x) at each row of x (n, d): (n, d), in the layout of x (F-ordered for F-contiguous x, else C)."""
    def hessian(self, x: ArrayLike) -> F64:
        """Hessian of log p at each row of x (n, d): (n, d, d)."""
    def responsibilities(self, x: ArrayLike) -> F64:
        """P(component i | x) at each row of x (n, d): (n, k)."""
    def sample(self, n: int, seed: int = 0) -> F64:
        """n exact draws (n, d); draw i from ChaCha8(seed, stream i), as `gmdiff sample --sampler exact`."""
    def diffuse(self, path: PathLike, t: float) -> "GaussianMixture":
        """p_t = sum_i w_i N(a_t mu_i, a_t^2 Sigma_i + b_t^2 I) (closure lemma)."""
    def predict(self, x: ArrayLike, path: PathLike, t: float, kind: str = "epsilon") -> F64:
        """The exact model output of p_t at x (n, d): kind score, epsilon/eps, sample/x0, v_prediction/v, velocity/flow."""

def sample(
    mixture: GaussianMixture,
    *,
    sampler: str,
    steps: Optional[int] = None,
    n: int,
    seed: int = 0,
    path: Optional[PathLike] = None,
    grid: Optional[str] = None,
    eps: Optional[float] = None,
    init: str = "standard",
    eta: Optional[float] = None,
    s_noise: Optional[float] = None,
    s_churn: Optional[float] = None,
    s_tmin: Optional[float] = None,
    s_tmax: Optional[float] = None,
    r: Optional[float] = None,
    solver_type: Optional[str] = None,
    lower_order_final: Optional[bool] = None,
    order: Optional[int] = None,
    use_corrector: Optional[bool] = None,
    skip_prk_steps: Optional[bool] = None,
    last_step_noise: Optional[bool] = None,
    corrector_every: Optional[int] = None,
    corrector_iterations: Optional[int] = None,
    corrector_step_scale: Optional[float] = None,
    friction: Optional[float] = None,
    rho: Optional[float] = None,
) -> F64:
    """(n, d) samples of `sampler` (gmdiff.SAMPLERS, or "exact") with the exact score, bit-identical to `gmdiff sample`.

    Defaults as the CLI: path vp, grid uniform (karras on edm), eps 1e-3 (0.002 on edm).
    Raises UsageError, ProcessError, SolverError.
    """

def output_law(
    mean: Optional[ArrayLike] = None,
    covariance: Optional[ArrayLike] = None,
    *,
    spectrum: Optional[ArrayLike] = None,
    sampler: str,
    steps: int,
    path: Optional[PathLike] = None,
    grid: Optional[str] = None,
    eps: Optional[float] = None,
    init: str = "standard",
    score_scale: float = 0.0,
    **options: Any,
) -> Union[Tuple[F64, F64], F64]:
    """The exact output law of a discrete sampler on N(mean, covariance): (mean (d,), covariance (d, d));
    with spectrum= (centred diagonal data) the output variances (d,). eps defaults to 0 (0.002 on edm)."""

def gaussian_error(
    mean: Optional[ArrayLike] = None,
    covariance: Optional[ArrayLike] = None,
    *,
    spectrum: Optional[ArrayLike] = None,
    sampler: str,
    steps: Optional[int] = None,
    path: Optional[PathLike] = None,
    grid: Optional[str] = None,
    eps: Optional[float] = None,
    init: str = "standard",
    score_scale: float = 0.0,
    trajectory: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """As `gmdiff gaussian-error --law`: {"w2", "kl", "score_evals", "law", "note"[, "trajectory"]}; sampler may be sde or ode."""

def w2_exact(x: ArrayLike, y: ArrayLike, a: Optional[ArrayLike] = None, b: Optional[ArrayLike] = None) -> float: ...
def w2_sliced(x: ArrayLike, y: ArrayLike, projections: int = 200, seed: int = 0) -> Tuple[float, float]:
    """(distance, std_error_squared)."""
def bures_w2(m1: ArrayLike, s1: ArrayLike, m2: ArrayLike, s2: ArrayLike) -> float: ...
def bures_w2_fitted(x: ArrayLike, y: ArrayLike) -> float: ...
def kl_gaussian(m1: ArrayLike, s1: ArrayLike, m2: ArrayLike, s2: ArrayLike) -> float: ...
def gaussian_entropy(s: ArrayLike) -> float: ...
def mmd(x: ArrayLike, y: ArrayLike, bandwidth: Optional[float] = None, permutations: int = 0, seed: int = 0) -> dict[str, Any]: ...
def energy_distance(x: ArrayLike, y: ArrayLike, permutations: int = 0, seed: int = 0) -> dict[str, Any]: ...
def mixture_kl(p: GaussianMixture, q: GaussianMixture, samples: int = 100000, seed: int = 0) -> Tuple[float, float]: ...
def mixture_tv(p: GaussianMixture, q: GaussianMixture, samples: int = 100000, seed: int = 0) -> Tuple[float, float]: ...
def mixture_entropy(p: GaussianMixture, samples: int = 100000, seed: int = 0) -> Tuple[float, float]: ...
def mixture_w2(p: GaussianMixture, q: GaussianMixture) -> float: ...
def guide(
    mixture: GaussianMixture,
    *,
    class_: int,
    strength: float,
    sampler: str,
    steps: int,
    n: int,
    seed: int = 0,
    path: Optional[PathLike] = None,
    grid: Optional[str] = None,
    eps: Optional[float] = None,
    guidance: str = "classifier",
    classes: Optional[Sequence[Sequence[int]]] = None,
    **options: Any,
) -> dict[str, Any]:
    """As `gmdiff guide` (default path OU, T = 5): confidence, entropy (+ stderr, method, route, note), sampler, samples (n, d)."""
