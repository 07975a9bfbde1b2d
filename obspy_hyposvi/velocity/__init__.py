"""Velocity models: what the travel-time networks are trained to reproduce.

Depths are km below sea level (positive down), velocities km/s.

- :mod:`~obspy_hyposvi.velocity.model1d`: 1D models (:class:`Layered1D`, :class:`Nodes1D`)
  and the socal-1d model of the bundled checkpoints (:func:`socal_1d`);
- :mod:`~obspy_hyposvi.velocity.grid3d`: 3D models on a regular projected grid
  (:class:`Grid3D`), their ``.npz`` files and the resampling of lon/lat grids;
- :mod:`~obspy_hyposvi.velocity.basin`: the demonstration 3D model, socal-1d with a
  sedimentary basin (:func:`basin_demo_model`), and Brocher's Vs(Vp) relation;
- :mod:`~obspy_hyposvi.velocity.io`: readers of velocity-model files (CSV, NonLinLoc
  ``LAYER``, HypoInverse CRH/CRE, and ``.npz`` grids through :class:`Grid3D`).

The public names of these modules are importable from here.

>>> from obspy_hyposvi.velocity import socal_1d
>>> socal_1d().velocity([1.0], "P").tolist()
[5.5]
"""

from .basin import basin_demo_model, brocher_vs_from_vp
from .grid3d import Grid3D, grid3d_from_dict
from .io import (
    FORMATS,
    read_csv_model,
    read_hypoinverse_model,
    read_nlloc_layers,
    read_velocity_model,
)
from .model1d import PHASES, Layered1D, Nodes1D, VelocityModel1D, model_from_dict, socal_1d

__all__ = ["VelocityModel1D", "Layered1D", "Nodes1D", "socal_1d", "PHASES", "model_from_dict",
           "Grid3D", "grid3d_from_dict", "basin_demo_model", "brocher_vs_from_vp",
           "read_velocity_model", "read_csv_model", "read_nlloc_layers",
           "read_hypoinverse_model", "FORMATS"]
