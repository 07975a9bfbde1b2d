"""obspy_hyposvi: probabilistic earthquake location for ObsPy catalogues.

Stein variational gradient descent over hypocentre particles, an equal-differential-time
likelihood, and EikoNet travel-time networks as the forward model.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("obspy-hyposvi")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
