"""Rebuild tests/data/tiny-homogeneous-{P,S}.pt: kB-sized EikoNets of a homogeneous model.

A homogeneous half-space (Vp 6.0, Vs 3.5 km/s) has the exact travel time |r - s| / v, so tests
can compare the network and the locator against an analytic answer.
Run: python tests/data/make_tiny_checkpoint.py
"""

from pathlib import Path

from obspy_hyposvi import __version__
from obspy_hyposvi.eikonet.checkpoint import save_checkpoint
from obspy_hyposvi.eikonet.train import TrainConfig, checkpoint_metadata, train_eikonet_1d
from obspy_hyposvi.velocity import Layered1D

HERE = Path(__file__).resolve().parent
MODEL = Layered1D(depth_km=[0.0], vp_kmps=[6.0], vs_kmps=[3.5], name="tiny-homogeneous",
                  source="test fixture")
CONFIG = TrainConfig(max_offset_km=150.0, depth_min_km=-3.0, depth_max_km=40.0, width=16,
                     n_layers=2, n_steps=400, batch_size=1024, n_validation=1000, seed=0)


def build(folder: Path = HERE) -> list[Path]:
    """Train and save both phases; returns the paths written."""
    paths = []
    for phase in ("P", "S"):
        net, report = train_eikonet_1d(MODEL, phase, CONFIG)
        meta = checkpoint_metadata(MODEL, phase, CONFIG, report, package_version=__version__)
        paths.append(save_checkpoint(folder / f"tiny-homogeneous-{phase}.pt", net.state_dict(),
                                     meta))
    return paths


if __name__ == "__main__":
    for p in build():
        print(p)
