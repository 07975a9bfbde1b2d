"""Validation references: travel times from solvers independent of the EikoNet networks.

- :mod:`~obspy_hyposvi.reference.layered_exact`: exact first arrivals in 1D layered models
  (direct rays and head waves), against which the 1D networks are validated after training
  and the synthetic catalogues are made;
- :mod:`~obspy_hyposvi.reference.fmm`: fast-marching travel times in 3D grids (scikit-fmm, a
  test and benchmark extra, imported only when a solution is computed).

Locating never uses them. This package imports neither module, so importing one does not
import the other.
"""
