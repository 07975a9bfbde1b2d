"""A straight-ray travel-time model at one velocity: a stand-in for an EikoNet model in tests."""

import torch


class Homogeneous:
    """Travel time = distance / velocity, km and s, with the attributes the locator reads."""

    depth_range_km = (-3.0, 60.0)
    max_offset_km = 400.0
    dtype = torch.float64

    def __init__(self, velocity_kmps: float) -> None:
        self.velocity_kmps = velocity_kmps

    def travel_time_torch(self, sources_km, receivers_km):
        return torch.linalg.norm(receivers_km - sources_km, dim=-1) / self.velocity_kmps
