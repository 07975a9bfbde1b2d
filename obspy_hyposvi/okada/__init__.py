"""Okada (1985, 1992) elastic half-space dislocations in torch: batched and differentiable.

Owns the Okada forward models of the package: :func:`dc3d` (rectangular fault) and
:func:`dc3d0` (point source) with the Fortran's argument conventions, the geographic wrapper
:class:`RectangularFault` / :func:`fault_displacement`, and the SVGD inversion of GNSS offsets
(:mod:`.inversion`). Nothing here imports obspy; the ObsPy adapter is
:mod:`obspy_hyposvi.bridge.okada`.
"""

from .fault import (PARAM_NAMES, RectangularFault, displacement_hessian,
                    displacement_jacobian, fault_displacement, okada_enu)
from .point import dc3d0
from .rectangular import dc3d

__all__ = ["dc3d", "dc3d0", "PARAM_NAMES", "RectangularFault", "okada_enu",
           "fault_displacement", "displacement_jacobian", "displacement_hessian"]
