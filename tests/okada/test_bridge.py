"""ObsPy adapter of the Okada wrapper (bridge.okada)."""

from __future__ import annotations

import numpy as np
import pytest
from obspy import read_inventory
from obspy.core.event import Event, FocalMechanism, Magnitude, NodalPlane, NodalPlanes, Origin

from obspy_hyposvi.bridge.okada import fault_from_event, stations_from_inventory
from obspy_hyposvi.errors import HypoSVIWarning, InputError
from obspy_hyposvi.okada import fault_displacement


def _event(depth_m=20000.0, mag=7.0, dip=20.0):
    return Event(origins=[Origin(latitude=38.0, longitude=142.0, depth=depth_m)],
                 magnitudes=[Magnitude(mag=mag)],
                 focal_mechanisms=[FocalMechanism(nodal_planes=NodalPlanes(
                     nodal_plane_1=NodalPlane(strike=200.0, dip=dip, rake=90.0)))])


def test_event_and_inventory_forward():
    codes, lon, lat = stations_from_inventory(read_inventory())
    fault = fault_from_event(_event())
    # moment is conserved: mu L W D = M0
    m0 = 3e10 * fault.length_km * 1e3 * fault.width_km * 1e3 * fault.slip_m
    np.testing.assert_allclose(m0, 10 ** (1.5 * 7.0 + 9.1), rtol=1e-12)
    out = fault_displacement(fault, lon, lat)
    assert out["displacement_enu_m"].shape == (len(codes), 3)
    assert np.isfinite(out["displacement_enu_m"]).all()


def test_shallow_event_width_reduced_with_warning():
    with pytest.warns(HypoSVIWarning, match="break the surface"):
        fault = fault_from_event(_event(depth_m=3000.0, dip=60.0))
    assert 0.5 * fault.width_km * np.sin(np.radians(60.0)) <= 3.0 + 1e-9


def test_event_without_mechanism():
    with pytest.raises(InputError, match="focal mechanism"):
        fault_from_event(Event(origins=[Origin(latitude=0, longitude=0, depth=1e4)]))
