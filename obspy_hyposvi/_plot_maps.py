"""Map furniture of :mod:`obspy_hyposvi.plot`: frames (km to longitude and latitude), degree
ticks, aspect, scale bars, stations, ellipse outlines and the Agg figure.

Matplotlib is imported inside the functions, as in :mod:`obspy_hyposvi.plot`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .geo import Projection
from .locate.observations import Observations

#: Points along each drawn ellipse.
N_ELLIPSE = 181
#: km per degree of latitude on a sphere of radius 6371 km: only to size windows and set the
#: aspect of maps and sections (positions themselves go through the projection).
KM_PER_DEG = 6371.0 * np.pi / 180.0


class Frame:
    """One event's frame: km (x east, y north) to the figure's horizontal coordinates.

    Geographic (lon, lat in degrees, longitudes unwrapped around ``ref_lon`` so that a figure
    across the antimeridian stays continuous) when a projection is given, else km unchanged.
    """

    def __init__(self, projection: Projection | None, ref_lon: float | None = None):
        self.projection = projection
        self.ref_lon = ref_lon

    @property
    def geographic(self) -> bool:
        return self.projection is not None

    def xy(self, x_km, y_km) -> tuple[np.ndarray, np.ndarray]:
        x_km = np.asarray(x_km, dtype=float)
        y_km = np.asarray(y_km, dtype=float)
        if self.projection is None:
            return x_km, y_km
        lon, lat, _ = self.projection.to_lonlat(x_km, y_km)
        lon = np.asarray(lon, dtype=float)
        if self.ref_lon is None:
            self.ref_lon = float(np.ravel(lon)[0]) if lon.size else 0.0
        return (lon - self.ref_lon + 180.0) % 360.0 - 180.0 + self.ref_lon, np.asarray(lat)

    def deg_per_km(self, lat_deg: float) -> tuple[float, float]:
        """Horizontal units per km east and north at ``lat_deg`` (1, 1 in a km frame)."""
        if not self.geographic:
            return 1.0, 1.0
        return 1.0 / (KM_PER_DEG * max(np.cos(np.radians(lat_deg)), 1e-3)), 1.0 / KM_PER_DEG

    def labels(self) -> tuple[str, str]:
        if self.geographic:
            return "longitude (°)", "latitude (°)"
        return "x east (km)", "y north (km)"


def new_figure(width_in: float, height_in: float):
    """A figure bound to the Agg canvas, independent of pyplot's global state and backend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def ellipse_points(centre: np.ndarray, covariance: np.ndarray, scale: float) -> np.ndarray:
    """``(N_ELLIPSE, 2)`` outline of ``{x : (x - c)^T C^-1 (x - c) = scale^2}``."""
    values, vectors = np.linalg.eigh(0.5 * (covariance + covariance.T))
    angle = np.linspace(0.0, 2.0 * np.pi, N_ELLIPSE)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    return centre + (vectors @ (np.sqrt(np.clip(values, 0.0, None))[:, None] * circle)).T * scale


def _decimals(values: np.ndarray) -> int:
    """Fewest decimals (0-6) that write every tick value exactly."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return 2
    step = np.min(np.diff(np.sort(values)))
    for n in range(7):
        if np.allclose(np.round(values, n), values, rtol=0.0, atol=max(step, 1e-9) * 1e-3):
            return n
    return 6


def degree_ticks(axis, hemispheres: str, nbins: int = 4) -> None:
    """Ticks of a longitude (``"EW"``) or latitude (``"NS"``) axis as ``116.45°W``."""
    from matplotlib.ticker import Formatter, MaxNLocator

    class DegreeFormatter(Formatter):
        decimals = 2

        def set_locs(self, locs):
            super().set_locs(locs)
            self.decimals = _decimals(locs)

        def __call__(self, value, pos=None):
            if hemispheres == "EW":
                value = (value + 180.0) % 360.0 - 180.0
            text = f"{abs(value):.{self.decimals}f}"
            if float(text) == 0.0:
                return f"{text}°"
            return f"{text}°{hemispheres[1] if value < 0 else hemispheres[0]}"

    # steps of 1, 2 or 5 units of a decimal: labels need no more digits than the step
    axis.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(DegreeFormatter())
    if axis.axis_name == "x":
        axis.set_tick_params(labelrotation=20, labelsize=9)  # long labels side by side


def style_map(ax, frame: Frame, lat0: float) -> None:
    """Labels, degree ticks and the aspect of latitude ``lat0`` (limits already set)."""
    xlabel, ylabel = frame.labels()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if frame.geographic:
        degree_ticks(ax.xaxis, "EW", nbins=3)  # longitude labels are long: fewer of them
        degree_ticks(ax.yaxis, "NS")
        dx, dy = frame.deg_per_km(lat0)
        ax.set_aspect(dx / dy, adjustable="box")  # 1 / cos(latitude)
    else:
        ax.set_aspect("equal", adjustable="box")


def _nice_length(km: float) -> float:
    """Largest 1, 2 or 5 x 10^k not above ``km``."""
    if not km > 0:
        return 1.0
    power = 10.0 ** np.floor(np.log10(km))
    return float(max(m for m in (1.0, 2.0, 5.0) if m * power <= km) * power)


def scale_bar(ax, frame: Frame, lat0: float) -> None:
    """A bar of a round number of km in the lower left corner (limits already set)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    dx, _ = frame.deg_per_km(lat0)
    length_km = _nice_length(0.3 * (x1 - x0) / dx)
    xa, ya = x0 + 0.06 * (x1 - x0), y0 + 0.06 * (y1 - y0)
    ax.plot([xa, xa + length_km * dx], [ya, ya], c="k", lw=2.5, solid_capstyle="butt",
            gid="scale-bar")
    ax.annotate(f"{length_km:g} km", (xa + 0.5 * length_km * dx, ya), xytext=(0, 3),
                textcoords="offset points", ha="center", va="bottom", fontsize=8)


def station_code(station_id: str) -> str:
    """The station code of ``NET.STA[.LOC.CHA]`` (the label itself when it has no dot)."""
    parts = str(station_id).split(".")
    return parts[1] if len(parts) > 1 and parts[1] else str(station_id)


def stations_of(observations: Observations | None, weight: np.ndarray | None = None):
    """Per station: (label, x_km, y_km, z_km, used by any pick). Label None without ids."""
    if observations is None or observations.n_picks == 0:
        return []
    xyz = observations.station_xyz_km
    keys = (observations.station_ids if observations.station_ids
            else [tuple(np.round(p, 6)) for p in xyz])
    used = np.asarray(observations.used, dtype=bool)
    if weight is not None and len(weight) == observations.n_picks:
        used = used & (np.asarray(weight, dtype=float) > 0)
    out: dict = {}
    for k, key in enumerate(keys):
        if key not in out:
            label = station_code(key) if observations.station_ids else None
            out[key] = [label, *xyz[k], bool(used[k])]
        else:
            out[key][4] = out[key][4] or bool(used[k])
    return [tuple(v) for v in out.values()]


def draw_stations(ax, frame: Frame, stations, *, label_codes: bool = True) -> None:
    """Triangles (open: no pick used), labelled with their station codes."""
    if not stations:
        return
    lon, lat = frame.xy([s[1] for s in stations], [s[2] for s in stations])
    used = np.array([s[4] for s in stations], dtype=bool)
    ax.scatter(lon[used], lat[used], marker="^", s=42, c="k", zorder=3, label="stations",
               gid="stations")
    if (~used).any():
        ax.scatter(lon[~used], lat[~used], marker="^", s=42, facecolors="none",
                   edgecolors="k", zorder=3, label="stations, no pick used", gid="stations-unused")
    if label_codes:
        for (code, *_), x, y in zip(stations, lon, lat):
            if code:
                ax.annotate(code, (x, y), xytext=(3, 3), textcoords="offset points",
                            fontsize=7, gid="station-label")


def set_map_limits(ax, xs: np.ndarray, ys: np.ndarray, frame: Frame, lat0: float,
                   margin: float = 0.08) -> None:
    """Limits around the points, with a margin, wide enough for the aspect of ``lat0``."""
    xs = xs[np.isfinite(xs)]
    ys = ys[np.isfinite(ys)]
    dx, dy = frame.deg_per_km(lat0)
    width_km = max((xs.max() - xs.min()) / dx, (ys.max() - ys.min()) / dy * 0.5, 1.0)
    height_km = max((ys.max() - ys.min()) / dy, width_km * 0.5)
    width_km = max(width_km, height_km * 0.5)
    cx, cy = 0.5 * (xs.max() + xs.min()), 0.5 * (ys.max() + ys.min())
    half_x, half_y = (0.5 + margin) * width_km * dx, (0.5 + margin) * height_km * dy
    ax.set(xlim=(cx - half_x, cx + half_x), ylim=(cy - half_y, cy + half_y))


def save(fig, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` (format by extension), creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
