"""obspy_hyposvi: probabilistic earthquake location for ObsPy catalogues.

Stein variational gradient descent over hypocentre particles, an equal-differential-time
likelihood, and EikoNet travel-time networks as the forward model.

The public names below are imported on first use (PEP 562), so that ``import obspy_hyposvi``
and ``hyposvi --help`` do not pay for torch, scikit-learn and ObsPy.

>>> import obspy_hyposvi
>>> obspy_hyposvi.SVGDConfig().n_particles
150
"""

from __future__ import annotations

import importlib
import importlib.util
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("obspy-hyposvi")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

#: Public name -> module (relative to this package) that defines it.
_LAZY = {
    "load_model": ".eikonet.model",
    "CheckpointError": ".errors",
    "HypoSVIError": ".errors",
    "HypoSVIWarning": ".errors",
    "InsufficientPicksError": ".errors",
    "OutsideModelDomainError": ".errors",
    "ErrorModel": ".locate.likelihood",
    "LikelihoodConfig": ".locate.likelihood",
    "SearchConfig": ".locate.engine",
    "SummaryConfig": ".locate.summary",
    "SVGDConfig": ".locate.svgd",
    "LocateReport": ".locator",
    "Locator": ".locator",
}

__all__ = ["__version__", "Locator", "LocateReport", "load_model", "SVGDConfig",
           "LikelihoodConfig", "ErrorModel", "SummaryConfig", "SearchConfig", "HypoSVIError",
           "HypoSVIWarning", "InsufficientPicksError", "OutsideModelDomainError",
           "CheckpointError"]

if TYPE_CHECKING:  # what static tools and IDEs see; at run time __getattr__ does the imports
    from .eikonet.model import load_model
    from .errors import (CheckpointError, HypoSVIError, HypoSVIWarning,
                         InsufficientPicksError, OutsideModelDomainError)
    from .locate.likelihood import ErrorModel, LikelihoodConfig
    from .locate.engine import SearchConfig
    from .locate.summary import SummaryConfig
    from .locate.svgd import SVGDConfig
    from .locator import LocateReport, Locator


def __getattr__(name: str) -> Any:
    """Import a public name, or a subpackage (``obspy_hyposvi.locate``), on first access."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
