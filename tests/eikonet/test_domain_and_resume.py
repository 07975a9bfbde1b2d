"""The training checks that `hyposvi train` calls: stations in the domain, resumable states."""

import numpy as np
import pytest
import torch

from obspy_hyposvi.eikonet.domain import check_stations_in_domain, station_reach_km
from obspy_hyposvi.eikonet.resume import (
    load_training_state,
    save_training_state,
    training_state_path,
)
from obspy_hyposvi.eikonet.train import TrainConfig
from obspy_hyposvi.errors import InputError

NAMES = ["SY.A", "SY.B", "SY.C"]
LON = np.array([-116.6, -116.4, -116.5])
LAT = np.array([33.4, 33.4, 33.6])
ELEVATION_M = np.array([0.0, 1200.0, 300.0])


def test_reach_is_the_farthest_station_from_a_corner_of_the_widened_box():
    no_margin = station_reach_km(LON, LAT, margin_km=0.0)
    # the box's far corner is a station's diagonal: ~18.6 x 22.2 km
    assert 25.0 < no_margin < 32.0
    assert station_reach_km(LON, LAT, margin_km=30.0) > no_margin + 30.0


def test_stations_inside_the_domain_pass():
    config = TrainConfig(depth_min_km=-3.0, max_offset_km=400.0)
    check_stations_in_domain(NAMES, LON, LAT, ELEVATION_M, config, margin_km=30.0)


def test_station_above_the_top_is_named_with_the_fix():
    config = TrainConfig(depth_min_km=-1.0, max_offset_km=400.0)
    with pytest.raises(InputError, match=r"SY\.B at elevation 1200 m .* MIN to -1\.7 or less"):
        check_stations_in_domain(NAMES, LON, LAT, ELEVATION_M, config, margin_km=30.0)


def test_reach_beyond_the_offsets_gives_the_offset_to_use():
    reach = station_reach_km(LON, LAT, margin_km=30.0)
    config = TrainConfig(depth_min_km=-3.0, max_offset_km=reach - 1.0)
    with pytest.raises(InputError, match=f"stations of st.xml.*up to {reach:.0f} km.*raise it"):
        check_stations_in_domain(NAMES, LON, LAT, ELEVATION_M, config, margin_km=30.0,
                                 source="st.xml")


def test_no_stations():
    with pytest.raises(InputError, match="st.xml: no stations"):
        check_stations_in_domain([], [], [], [], TrainConfig(), margin_km=30.0, source="st.xml")


def test_state_round_trip_and_its_refusals(tmp_path):
    config = TrainConfig(n_steps=100, width=8, n_layers=1)
    path = training_state_path(tmp_path / "m-P.pt")
    assert path.name == "m-P.pt.state"
    state = {"net": {"w": torch.ones(2)}, "optimizer": {}, "step": 50,
             "config": config.to_dict()}
    save_training_state(path, state)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-P.pt.state"]  # no .tmp left
    loaded = load_training_state(path, config)
    assert loaded["step"] == 50 and torch.equal(loaded["net"]["w"], torch.ones(2))
    with pytest.raises(InputError, match="other settings.*width=8 here 16"):
        load_training_state(path, TrainConfig(n_steps=100, width=16, n_layers=1))
    save_training_state(path, {"step": 1})
    with pytest.raises(InputError, match="not a hyposvi training state"):
        load_training_state(path, config)
    path.write_bytes(b"not a torch file")
    with pytest.raises(InputError, match=r"not a training state \("):
        load_training_state(path, config)
