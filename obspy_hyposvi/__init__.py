"""obspy_hyposvi: probabilistic earthquake location for ObsPy catalogues.

Stein variational gradient descent over hypocentre particles, an equal-differential-time
likelihood, and EikoNet travel-time networks as the forward model.

>>> from obspy_hyposvi import Locator, load_model  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("obspy-hyposvi")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

from .eikonet.model import load_model  # noqa: E402
from .errors import (CheckpointError, HypoSVIError, HypoSVIWarning,  # noqa: E402
                     InsufficientPicksError, OutsideModelDomainError)
from .locate.likelihood import ErrorModel, LikelihoodConfig  # noqa: E402
from .locate.locate import SearchConfig  # noqa: E402
from .locate.summary import SummaryConfig  # noqa: E402
from .locate.svgd import SVGDConfig  # noqa: E402
from .locator import LocateReport, Locator  # noqa: E402

__all__ = ["__version__", "Locator", "LocateReport", "load_model", "SVGDConfig",
           "LikelihoodConfig", "ErrorModel", "SummaryConfig", "SearchConfig", "HypoSVIError",
           "HypoSVIWarning", "InsufficientPicksError", "OutsideModelDomainError",
           "CheckpointError"]
