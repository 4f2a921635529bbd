"""From gridded fields to areas and points: polygon-area means and point values as sparse weight matrices.

Weights are computed once per grid and applied to any number of fields with one sparse matrix product, so a decade
of 6-hourly fields costs one multiplication per file. The functions return a ``scipy.sparse.csr_matrix`` of shape
``(n_targets, n_points)`` whose rows sum to one, for fields flattened in C order — ``(lat, lon)`` on grids with 1-D
coordinates, ``(y, x)`` on projected grids with 2-D ``lat``/``lon`` coordinates (:mod:`forecast.gribread`).

* **1-D coordinates** (regular lat/lon; Gaussian latitudes, which are not evenly spaced): each grid point stands for
  the cell reaching halfway to its neighbours, from its actual coordinates. Area means weight each cell by the area
  of its intersection with the polygon on the sphere (planar intersection in degrees × cos(latitude)); point values
  are bilinear between the four surrounding points.
* **2-D coordinates** (Lambert conformal, polar stereographic): an area mean is the mean of the grid points inside the
  polygon (each point stands for one projection cell of equal size; the map-factor variation across an area is
  neglected); point values are linear on the triangles of the grid's quadrilaterals (each split along a diagonal)
  in longitude/latitude, exact for a field linear in longitude and latitude.

:func:`target_weights` decides per target and reports how (:attr:`Weights.methods`, and ``extract(...).attrs
["extraction"]``): an area smaller than a grid cell (or, on a projected grid, with no grid point inside), or one the
grid covers less than ``min_coverage`` of (a regional archive a few cells wide around one city), takes the point
value at the area's stations when given, else at its representative point — bilinear (linear on projected grids)
inside the grid, the nearest grid point within half a cell beyond its outermost points — instead of a mean of the
few cells it touches. Missing values are handled by renormalising over the valid points.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse

#: an area the grid covers less of than this takes point values (stations or representative point) [1]
MIN_COVERAGE = 0.5
_SPACE_DIMS = (("lat", "lon"), ("y", "x"))


class ExtractionError(ValueError):
    """A target outside the grid, or grid coordinates that cannot describe a grid."""


class Weights(sparse.csr_matrix):
    """Target weights (rows sum to one) that also say how each row was formed.

    ``methods`` maps each target id to ``"area mean"`` or to the fallback used and why (e.g. ``"bilinear at the
    area's representative point (area smaller than a grid cell)"``).
    """

    methods: dict

    @classmethod
    def of(cls, matrix: sparse.csr_matrix, methods: dict) -> "Weights":
        w = cls(matrix)
        w.methods = dict(methods)
        return w


@dataclass(frozen=True)
class GridKey:
    """Hashable description of a grid (for caching weights).

    A regular grid is kept as first value, step and size per axis; other grids (Gaussian latitudes, 2-D coordinates
    of projected grids) also carry their coordinates in ``nodes``. :meth:`coordinates` gives them back.
    """

    lat0: float
    dlat: float
    nlat: int
    lon0: float
    dlon: float
    nlon: int
    nodes: bytes = b""
    shape: tuple = ()

    @classmethod
    def of(cls, lat: np.ndarray, lon: np.ndarray) -> "GridKey":
        lat, lon = np.asarray(lat, float), np.asarray(lon, float)
        if lat.ndim == 2 or lon.ndim == 2:
            if lat.shape != lon.shape or min(lat.shape) < 2:
                raise ExtractionError(f"2-D grid coordinates of shapes {lat.shape} and {lon.shape}: need one shape "
                                      "of at least 2 × 2")
            return cls(0.0, 0.0, lat.shape[0], 0.0, 0.0, lat.shape[1],
                       np.ascontiguousarray(lat).tobytes() + np.ascontiguousarray(lon).tobytes(), lat.shape)
        regular = True
        for name, v in (("lat", lat), ("lon", lon)):
            if v.size < 2:
                raise ExtractionError(f"grid {name} has {v.size} point(s); need at least 2")
            d = np.diff(v)
            if not (np.all(d > 0) or np.all(d < 0)):
                raise ExtractionError(f"grid {name} is not monotonic (steps {d.min():g}…{d.max():g})")
            regular &= bool(np.allclose(d, d[0], rtol=0.0, atol=2e-6))  # Gaussian latitudes are not
        if regular:
            return cls(round(float(lat[0]), 6), round(float(lat[1] - lat[0]), 6), lat.size,
                       round(float(lon[0]), 6), round(float(lon[1] - lon[0]), 6), lon.size)
        return cls(0.0, 0.0, lat.size, 0.0, 0.0, lon.size, lat.tobytes() + lon.tobytes())

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid's ``lat``, ``lon`` (1-D, or 2-D of ``shape``). [degrees]"""
        if not self.nodes:
            return self.lat0 + self.dlat * np.arange(self.nlat), self.lon0 + self.dlon * np.arange(self.nlon)
        values = np.frombuffer(self.nodes, dtype=float)
        if self.shape:
            n = self.shape[0] * self.shape[1]
            return values[:n].reshape(self.shape).copy(), values[n:].reshape(self.shape).copy()
        return values[:self.nlat].copy(), values[self.nlat:].copy()


def _check_grid(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    GridKey.of(lat, lon)
    return lat, lon


def _cell_edges(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges of the cells around 1-D grid coordinates (halfway to each neighbour), in the order of ``v``."""
    mid = (v[1:] + v[:-1]) / 2
    lo = np.concatenate([[v[0] - (mid[0] - v[0])], mid])
    hi = np.concatenate([mid, [v[-1] + (v[-1] - mid[-1])]])
    return lo, hi


def _lat_edges(lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = _cell_edges(lat)
    lo, hi = np.clip(lo, -90.0, 90.0), np.clip(hi, -90.0, 90.0)
    return np.minimum(lo, hi), np.maximum(lo, hi)


def _domain(lat: np.ndarray, lon: np.ndarray):
    """The part of the sphere the grid describes (lon/lat polygon)."""
    import shapely

    if lat.ndim == 1:
        lat_lo, lat_hi = _lat_edges(lat)
        lon_lo, lon_hi = _cell_edges(lon)
        return shapely.box(min(lon_lo.min(), lon_hi.min()), lat_lo.min(), max(lon_lo.max(), lon_hi.max()),
                           lat_hi.max())
    ring = np.concatenate([np.stack([lon[0, :], lat[0, :]], 1), np.stack([lon[1:, -1], lat[1:, -1]], 1),
                           np.stack([lon[-1, -2::-1], lat[-1, -2::-1]], 1), np.stack([lon[-2:0:-1, 0],
                                                                                      lat[-2:0:-1, 0]], 1)])
    return shapely.make_valid(shapely.Polygon(ring))


def _area_row(lat, lon, geom) -> tuple[np.ndarray, np.ndarray]:
    """Columns and weights of a polygon's area mean (empty when nothing overlaps)."""
    import shapely

    minx, miny, maxx, maxy = geom.bounds
    if lat.ndim == 2:
        flat_lon, flat_lat = lon.ravel(), lat.ravel()
        near = np.flatnonzero((flat_lon >= minx) & (flat_lon <= maxx) & (flat_lat >= miny) & (flat_lat <= maxy))
        inside = near[shapely.contains_xy(geom, flat_lon[near], flat_lat[near])]
        return inside, np.full(inside.size, 1.0 / max(inside.size, 1))
    lat_lo, lat_hi = _lat_edges(lat)
    lon_lo, lon_hi = _cell_edges(lon)
    lon_lo, lon_hi = np.minimum(lon_lo, lon_hi), np.maximum(lon_lo, lon_hi)
    ii = np.flatnonzero((lat_lo < maxy) & (lat_hi > miny))
    jj = np.flatnonzero((lon_lo < maxx) & (lon_hi > minx))
    if ii.size == 0 or jj.size == 0:
        return np.array([], dtype=int), np.array([])
    I, J = np.meshgrid(ii, jj, indexing="ij")
    I, J = I.ravel(), J.ravel()
    boxes = shapely.box(lon_lo[J], lat_lo[I], lon_hi[J], lat_hi[I])
    shapely.prepare(geom)
    frac = shapely.area(shapely.intersection(boxes, geom)) * np.cos(np.deg2rad(lat[I]))
    keep = frac > 0
    return I[keep] * lon.size + J[keep], frac[keep] / frac[keep].sum() if keep.any() else frac[keep]


def polygon_weights(lat: np.ndarray, lon: np.ndarray, polygons: dict) -> tuple[sparse.csr_matrix, list[str]]:
    """Area-mean weights of each polygon over the grid it overlaps.

    Parameters
    ----------
    lat, lon : ndarray
        Grid coordinates: 1-D (regular or Gaussian; either order) or 2-D ``(y, x)`` (projected grids). [degrees]
    polygons : dict
        ``{target_id: shapely geometry in lon/lat degrees}``.

    Returns
    -------
    weights : csr_matrix (n_polygons, n_points)
        Rows sum to 1.
    ids : list of str
        Row order.

    Raises
    ------
    ExtractionError
        A polygon outside the grid, or (projected grids) with no grid point inside.
    """
    lat, lon = _check_grid(lat, lon)
    n_points = lat.size if lat.ndim == 2 else lat.size * lon.size
    rows, cols, vals, ids = [], [], [], []
    for r, (target, geom) in enumerate(polygons.items()):
        ids.append(target)
        c, v = _area_row(lat, lon, geom)
        if c.size == 0:
            if geom.intersects(_domain(lat, lon)):
                raise ExtractionError(f"area {target}: no grid {'point inside' if lat.ndim == 2 else 'cell overlaps'}"
                                      " it")
            raise ExtractionError(f"area {target}: outside the grid ({np.min(lon):g}–{np.max(lon):g}°E, "
                                  f"{np.min(lat):g}–{np.max(lat):g}°N)")
        rows.append(np.full(c.size, r))
        cols.append(c)
        vals.append(v)
    w = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(len(ids), n_points))
    return w, ids


def _frac_index(v: np.ndarray, x: np.ndarray):
    """Bracketing indices and fraction of ``x`` on the monotonic axis ``v`` (either order), and where x is inside."""
    asc = v[-1] > v[0]
    vv = v if asc else v[::-1]
    inside = (x >= vv[0] - 1e-9) & (x <= vv[-1] + 1e-9)
    pos = np.interp(x, vv, np.arange(vv.size))
    i0 = np.clip(np.floor(pos).astype(int), 0, vv.size - 2)
    f = pos - i0
    if not asc:  # map back to the original (descending) order
        return v.size - 1 - i0, v.size - 2 - i0, f, inside
    return i0, i0 + 1, f, inside


def _point_rows(lat, lon, px, py) -> tuple[list, list]:
    """For each point: (columns, weights) or None outside the grid, and the method used."""
    n = len(px)
    out, how = [None] * n, [None] * n
    if lat.ndim == 1:
        a0, a1, fy, in_y = _frac_index(lat, py)
        b0, b1, fx, in_x = _frac_index(lon, px)
        lat_lo, lat_hi = _lat_edges(lat)
        lon_lo, lon_hi = _cell_edges(lon)
        for k in range(n):
            if in_y[k] and in_x[k]:
                cols = np.array([a0[k] * lon.size + b0[k], a0[k] * lon.size + b1[k], a1[k] * lon.size + b0[k],
                                 a1[k] * lon.size + b1[k]])
                vals = np.array([(1 - fy[k]) * (1 - fx[k]), (1 - fy[k]) * fx[k], fy[k] * (1 - fx[k]), fy[k] * fx[k]])
                out[k], how[k] = (cols, vals), "bilinear"
            elif (lat_lo.min() <= py[k] <= lat_hi.max()) and (min(lon_lo.min(), lon_hi.min()) <= px[k]
                                                              <= max(lon_lo.max(), lon_hi.max())):
                i, j = int(np.argmin(np.abs(lat - py[k]))), int(np.argmin(np.abs(lon - px[k])))
                out[k], how[k] = (np.array([i * lon.size + j]), np.array([1.0])), "nearest grid point"
        return out, how
    from scipy.spatial import cKDTree

    ny, nx = lat.shape
    xy = np.stack([lon.ravel(), lat.ravel()], 1)
    tree = cKDTree(xy)
    q = np.stack([px, py], 1)
    dist, nearest = tree.query(q)
    spacing = np.median(tree.query(xy[nearest], k=2)[0][:, 1])  # grid spacing near the points
    for k in range(n):
        found = _triangle(xy, ny, nx, int(nearest[k]), q[k])
        if found is not None:
            out[k], how[k] = found, "linear (triangulation)"
        elif dist[k] <= spacing:
            out[k], how[k] = (np.array([nearest[k]]), np.array([1.0])), "nearest grid point"
    return out, how


def _triangle(xy: np.ndarray, ny: int, nx: int, nearest: int, q: np.ndarray):
    """(corner indices, barycentric weights) of the grid triangle containing ``q``: each quad of a structured
    ``(y, x)`` grid around the nearest point, split along a diagonal; None when ``q`` is off the grid."""
    i, j = divmod(nearest, nx)
    for i0 in (i - 1, i):
        for j0 in (j - 1, j):
            if not (0 <= i0 < ny - 1 and 0 <= j0 < nx - 1):
                continue
            quad = np.array([i0 * nx + j0, i0 * nx + j0 + 1, (i0 + 1) * nx + j0, (i0 + 1) * nx + j0 + 1])
            for tri in (quad[[0, 1, 2]], quad[[1, 3, 2]]):
                p0, p1, p2 = xy[tri]
                m = np.array([p1 - p0, p2 - p0]).T
                if abs(np.linalg.det(m)) < 1e-12:
                    continue
                b = np.linalg.solve(m, q - p0)
                w = np.array([1.0 - b.sum(), b[0], b[1]])
                if (w >= -1e-9).all():
                    return tri, np.clip(w, 0.0, None) / np.clip(w, 0.0, None).sum()
    return None


def point_weights(lat: np.ndarray, lon: np.ndarray, points: pd.DataFrame) -> tuple[sparse.csr_matrix, list[str]]:
    """Interpolation weights at points: bilinear on 1-D grids, linear on a triangulation of a projected grid.

    Parameters
    ----------
    lat, lon : ndarray
        Grid coordinates, 1-D (either order) or 2-D ``(y, x)``. [degrees]
    points : DataFrame
        Columns ``id``, ``lon``, ``lat``. [degrees]

    Returns
    -------
    weights : csr_matrix (n_points, n_grid_points)
    ids : list of str

    Raises
    ------
    ExtractionError
        A point outside the grid (on a projected grid: farther than one grid spacing from it).
    """
    lat, lon = _check_grid(lat, lon)
    px, py = points["lon"].to_numpy(float), points["lat"].to_numpy(float)
    if lat.ndim == 1:  # strict here: beyond the outermost grid points is outside
        for v, x, what in ((lat, py, "latitude"), (lon, px, "longitude")):
            lo, hi = min(v[0], v[-1]), max(v[0], v[-1])
            bad = x[(x < lo - 1e-9) | (x > hi + 1e-9)]
            if bad.size:
                raise ExtractionError(f"point {what} {bad[0]:g} outside the grid ({lo:g}…{hi:g})")
    rows, _ = _point_rows(lat, lon, px, py)
    for k, row in enumerate(rows):
        if row is None:
            raise ExtractionError(f"point {points['id'].iloc[k]} ({px[k]:g}°E, {py[k]:g}°N) outside the grid")
    w = _stack([[r] for r in rows], lat.size if lat.ndim == 2 else lat.size * lon.size)
    return w, [str(i) for i in points["id"]]


def _stack(groups: list[list], n_points: int) -> sparse.csr_matrix:
    """One row per group: the mean of the group's (columns, weights) rows."""
    rows, cols, vals = [], [], []
    for r, group in enumerate(groups):
        for c, v in group:
            rows.append(np.full(len(c), r))
            cols.append(np.asarray(c))
            vals.append(np.asarray(v, float) / len(group))
    w = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(len(groups), n_points))
    w.sum_duplicates()
    return w


def _representative_point(geom):
    c = geom.centroid
    return c if geom.contains(c) else geom.representative_point()


def _cell_area(lat, lon, x: float, y: float) -> float:
    """Area of the 1-D grid's cell nearest to (x, y). [degrees²]"""
    lat_lo, lat_hi = _lat_edges(lat)
    lon_lo, lon_hi = _cell_edges(lon)
    i, j = int(np.argmin(np.abs(lat - y))), int(np.argmin(np.abs(lon - x)))
    return float((lat_hi[i] - lat_lo[i]) * abs(lon_hi[j] - lon_lo[j]))


#: the ways a target's values are normally formed (anything else is a fallback, reported by the ingest)
REGULAR_METHODS = ("area mean",)


def is_fallback(method: str) -> bool:
    """Whether a target's method (``Weights.methods``) is a fallback: point values for an area too small or too
    little covered, a partial mean, or the nearest grid point for a station beyond the grid."""
    plain = method.replace("point(s)", "").replace("(triangulation)", "")
    return method not in REGULAR_METHODS and ("(" in plain or "nearest" in plain or "over the" in plain)


def _polygon_target(target, geom, lat, lon, domain, stations, min_coverage):
    """(rows, method) of one polygon target: its area mean, or point values when it is too small or too little
    covered (see the module docstring)."""
    covered = geom.intersection(domain).area / geom.area if geom.area > 0 else float(geom.intersects(domain))
    if covered <= 0:
        raise ExtractionError(f"area {target}: outside the grid ({np.min(lon):g}–{np.max(lon):g}°E, "
                              f"{np.min(lat):g}–{np.max(lat):g}°N)")
    cols, vals = _area_row(lat, lon, geom)
    rep = _representative_point(geom)
    if lat.ndim == 1:
        small = geom.area < _cell_area(lat, lon, rep.x, rep.y)
        reason = "area smaller than a grid cell"
    else:
        small = cols.size == 0
        reason = "no grid point inside the area"
    if not small and covered >= min_coverage:
        return [(cols, vals)], "area mean" if covered > 0.999 else f"area mean over the {covered:.0%} the grid covers"
    if not small:
        reason = f"the grid covers {covered:.0%} of the area"
    if stations:
        rows, how = _point_rows(lat, lon, np.array([p.x for p in stations]), np.array([p.y for p in stations]))
        found = [(r, h) for r, h in zip(rows, how) if r is not None]
        if found:
            methods = " / ".join(sorted({h for _, h in found}))
            return [r for r, _ in found], f"{methods} at {len(found)} of the area's stations ({reason})"
    rows, how = _point_rows(lat, lon, np.array([rep.x]), np.array([rep.y]))
    if rows[0] is not None:
        return [rows[0]], f"{how[0]} at the area's representative point ({reason})"
    if cols.size:
        return [(cols, vals)], f"mean over the covered part ({reason}; its representative point is off the grid)"
    raise ExtractionError(f"area {target}: no grid point inside it and its representative point "
                          f"({rep.x:g}°E, {rep.y:g}°N) is off the grid")


def target_weights(lat: np.ndarray, lon: np.ndarray, targets: dict, *, stations: dict | None = None,
                   min_coverage: float = MIN_COVERAGE) -> tuple[Weights, list[str]]:
    """Weights for a mix of targets, with a fallback to point values for areas a grid cannot average.

    Parameters
    ----------
    lat, lon : ndarray
        Grid coordinates, 1-D (either order) or 2-D ``(y, x)``. [degrees]
    targets : dict
        ``{target_id: geometry}``: polygons give area means (:func:`polygon_weights`); points or multi-points give
        the mean of the point values (e.g. an area's monitoring stations).
    stations : dict, optional
        ``{target_id: Point or MultiPoint}``: where a polygon target that falls back to point values takes them
        (default: the polygon's representative point).
    min_coverage : float
        A polygon the grid covers less of takes point values. [1]

    Returns
    -------
    weights : Weights (n_targets, n_points)
        Rows sum to 1; ``weights.methods`` says how each row was formed.
    ids : list of str

    Raises
    ------
    ExtractionError
        A target outside the grid, or an unsupported geometry type.
    """
    lat, lon = _check_grid(lat, lon)
    domain = _domain(lat, lon)
    groups, ids, methods = [], [], {}
    for target, geom in targets.items():
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            pts = (stations or {}).get(target)
            pts = [] if pts is None else [pts] if pts.geom_type == "Point" else list(pts.geoms)
            group, how = _polygon_target(target, geom, lat, lon, domain, pts, min_coverage)
        elif geom.geom_type in ("Point", "MultiPoint"):
            pts = [geom] if geom.geom_type == "Point" else list(geom.geoms)
            rows, hows = _point_rows(lat, lon, np.array([p.x for p in pts]), np.array([p.y for p in pts]))
            for p, r in zip(pts, rows):
                if r is None:
                    raise ExtractionError(f"target {target}: point ({p.x:g}°E, {p.y:g}°N) outside the grid")
            group, how = rows, f"{' / '.join(sorted(set(hows)))} at {len(pts)} point(s)"
        else:
            raise ExtractionError(f"target {target}: geometry type {geom.geom_type} not supported; allowed: "
                                  "Polygon, MultiPolygon, Point, MultiPoint")
        groups.append(group)
        ids.append(target)
        methods[target] = how
    w = _stack(groups, lat.size if lat.ndim == 2 else lat.size * lon.size)
    return Weights.of(w, methods), ids


def _space_dims(field: xr.DataArray) -> tuple[str, str]:
    for dims in _SPACE_DIMS:
        if set(dims) <= set(field.dims):
            return dims
    raise ExtractionError(f"field dims {field.dims}: need (lat, lon) or (y, x)")


def apply_weights(field: xr.DataArray, weights: sparse.csr_matrix, ids: list[str], dim: str = "area_id"):
    """Weighted means of a field ``(…, lat, lon)`` or ``(…, y, x)`` → ``(…, dim)``; missing points are left out and
    weights renormalised.

    Returns an ``xarray.DataArray`` with the leading dimensions of ``field`` and a new last dimension ``dim``.
    """
    space = _space_dims(field)
    if field.dims[-2:] != space:
        field = field.transpose(..., *space)
    lead_dims = field.dims[:-2]
    values = np.asarray(field.values, dtype=float)
    flat = values.reshape(-1, values.shape[-2] * values.shape[-1])
    if flat.shape[1] != weights.shape[1]:
        raise ExtractionError(f"field has {flat.shape[1]} grid points, the weights {weights.shape[1]}")
    valid = np.isfinite(flat)
    if valid.all():
        out = (weights @ flat.T).T
    else:
        num = (weights @ np.where(valid, flat, 0.0).T).T
        den = (weights @ valid.T.astype(float)).T
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(den > 1e-9, num / np.where(den > 1e-9, den, 1.0), np.nan)
    out = out.reshape(values.shape[:-2] + (len(ids),))
    coords = {d: field[d].values for d in lead_dims if d in field.coords}
    coords[dim] = ids
    return xr.DataArray(out, dims=lead_dims + (dim,), coords=coords, attrs=field.attrs)


def extract(ds: xr.Dataset, weights: sparse.csr_matrix, ids: list[str], dim: str = "area_id") -> pd.DataFrame:
    """All gridded variables of ``ds`` (dims ``valid_time, lat, lon`` or ``valid_time, y, x``) as a long table
    ``(dim, valid_time, vars…)``.

    1-D variables along ``valid_time`` (e.g. ``precip_hours``) and coordinates such as ``lead_hours`` are carried.
    With :class:`Weights`, ``table.attrs["extraction"]`` says how each target's values were formed.

    A dataset already reduced to these targets as it was read (:func:`forecast.gribread.read_grib` with ``reduce``:
    ``attrs["reduced"]`` names its target dimension, in the order of ``ids``) is only laid out as the table.
    """
    cols = {}
    reduced = ds.attrs.get("reduced")
    if reduced and reduced in ds.dims and [str(i) for i in ds[reduced].values] != [str(i) for i in ids]:
        raise ExtractionError(f"dataset reduced to targets {list(ds[reduced].values)[:5]}…, not to {list(ids)[:5]}…")
    for name, da in ds.data_vars.items():
        if reduced and reduced in da.dims:
            cols[name] = da.transpose("valid_time", reduced).values.ravel()
        elif any(set(d) <= set(da.dims) for d in _SPACE_DIMS):
            cols[name] = apply_weights(da, weights, ids, dim).transpose("valid_time", dim).values.ravel()
    n_t = ds.sizes["valid_time"]
    frame = pd.DataFrame({dim: np.tile(np.asarray(ids, dtype=object), n_t),
                          "valid_time": np.repeat(ds["valid_time"].values, len(ids))})
    for name, da in ds.data_vars.items():
        if da.dims == ("valid_time",):
            frame[name] = np.repeat(da.values, len(ids))
    for name in ("lead_hours",):
        if name in ds.coords:
            frame[name] = np.repeat(ds[name].values, len(ids))
    for name, v in cols.items():
        frame[name] = v.astype("float32")
    methods = getattr(weights, "methods", None)
    if methods:
        frame.attrs["extraction"] = {str(k): methods[k] for k in ids if k in methods}
    return frame
