"""From gridded fields to areas and points: polygon-area means and bilinear point values as sparse weight matrices.

Weights are computed once per grid (a regular lat/lon grid given by its ``lat`` and ``lon`` vectors) and applied to
any number of fields with one sparse matrix product, so a decade of 6-hourly fields costs one multiplication per
file. Both functions return a ``scipy.sparse.csr_matrix`` of shape ``(n_targets, n_lat * n_lon)`` whose rows sum to
one, for fields flattened in C order ``(lat, lon)``.

Area means weight each grid cell (the box of one grid step around the grid point) by the area of its intersection
with the polygon on the sphere (planar intersection in degrees × cos(latitude)), so a banner smaller than a grid cell
still gets the cells it overlaps. Missing values are handled by renormalising over the valid cells.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse


class ExtractionError(ValueError):
    """A target outside the grid, or a grid that is not regular."""


@dataclass(frozen=True)
class GridKey:
    """Hashable description of a regular grid (for caching weights)."""

    lat0: float
    dlat: float
    nlat: int
    lon0: float
    dlon: float
    nlon: int

    @classmethod
    def of(cls, lat: np.ndarray, lon: np.ndarray) -> "GridKey":
        lat, lon = np.asarray(lat, float), np.asarray(lon, float)
        for name, v in (("lat", lat), ("lon", lon)):
            if v.size < 2:
                raise ExtractionError(f"grid {name} has {v.size} point(s); need at least 2")
            d = np.diff(v)
            if not np.allclose(d, d[0], rtol=1e-4, atol=1e-6):
                raise ExtractionError(f"grid {name} is not regular (steps {d.min():g}…{d.max():g})")
        return cls(round(float(lat[0]), 6), round(float(lat[1] - lat[0]), 6), lat.size,
                   round(float(lon[0]), 6), round(float(lon[1] - lon[0]), 6), lon.size)


def _cell_edges(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    half = np.abs(v[1] - v[0]) / 2
    return v - half, v + half


def polygon_weights(lat: np.ndarray, lon: np.ndarray, polygons: dict) -> tuple[sparse.csr_matrix, list[str]]:
    """Area-mean weights of each polygon over the grid cells it overlaps.

    Parameters
    ----------
    lat, lon : ndarray
        Grid point coordinates of a regular grid. [degrees north / east]
    polygons : dict
        ``{target_id: shapely geometry in lon/lat degrees}``.

    Returns
    -------
    weights : csr_matrix (n_polygons, n_lat * n_lon)
        Rows sum to 1.
    ids : list of str
        Row order.
    """
    import shapely

    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    GridKey.of(lat, lon)
    lat_lo, lat_hi = _cell_edges(lat)
    lon_lo, lon_hi = _cell_edges(lon)
    rows, cols, vals, ids = [], [], [], []
    for r, (target, geom) in enumerate(polygons.items()):
        ids.append(target)
        minx, miny, maxx, maxy = geom.bounds
        ii = np.flatnonzero((np.minimum(lat_lo, lat_hi) < maxy) & (np.maximum(lat_lo, lat_hi) > miny))
        jj = np.flatnonzero((lon_lo < maxx) & (lon_hi > minx))
        if ii.size == 0 or jj.size == 0:
            raise ExtractionError(f"area {target}: outside the grid ({lon.min():g}–{lon.max():g}°E, "
                                  f"{lat.min():g}–{lat.max():g}°N)")
        I, J = np.meshgrid(ii, jj, indexing="ij")
        I, J = I.ravel(), J.ravel()
        boxes = shapely.box(lon_lo[J], np.minimum(lat_lo, lat_hi)[I], lon_hi[J], np.maximum(lat_lo, lat_hi)[I])
        shapely.prepare(geom)
        frac = shapely.area(shapely.intersection(boxes, geom)) * np.cos(np.deg2rad(lat[I]))
        keep = frac > 0
        if not keep.any():
            raise ExtractionError(f"area {target}: no grid cell overlaps it")
        rows.append(np.full(keep.sum(), r))
        cols.append(I[keep] * lon.size + J[keep])
        vals.append(frac[keep] / frac[keep].sum())
    w = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(len(ids), lat.size * lon.size))
    return w, ids


def point_weights(lat: np.ndarray, lon: np.ndarray, points: pd.DataFrame) -> tuple[sparse.csr_matrix, list[str]]:
    """Bilinear-interpolation weights at points.

    Parameters
    ----------
    lat, lon : ndarray
        Grid point coordinates of a regular grid (either order). [degrees]
    points : DataFrame
        Columns ``id``, ``lon``, ``lat``. [degrees]

    Returns
    -------
    weights : csr_matrix (n_points, n_lat * n_lon)
    ids : list of str
    """
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    GridKey.of(lat, lon)

    def frac_index(v, x, what):
        asc = v[1] > v[0]
        vv = v if asc else v[::-1]
        if np.any(x < vv[0] - 1e-9) | np.any(x > vv[-1] + 1e-9):
            bad = x[(x < vv[0] - 1e-9) | (x > vv[-1] + 1e-9)]
            raise ExtractionError(f"point {what} {bad[0]:g} outside the grid ({vv[0]:g}…{vv[-1]:g})")
        pos = np.interp(x, vv, np.arange(vv.size))
        i0 = np.clip(np.floor(pos).astype(int), 0, vv.size - 2)
        f = pos - i0
        if not asc:  # map back to the original (descending) order
            return (v.size - 1 - i0), (v.size - 2 - i0), f
        return i0, i0 + 1, f

    px, py = points["lon"].to_numpy(float), points["lat"].to_numpy(float)
    a0, a1, fy = frac_index(lat, py, "latitude")
    b0, b1, fx = frac_index(lon, px, "longitude")
    n = len(points)
    rows = np.repeat(np.arange(n), 4)
    cols = np.stack([a0 * lon.size + b0, a0 * lon.size + b1, a1 * lon.size + b0, a1 * lon.size + b1], 1).ravel()
    vals = np.stack([(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx], 1).ravel()
    w = sparse.csr_matrix((vals, (rows, cols)), shape=(n, lat.size * lon.size))
    w.sum_duplicates()
    return w, [str(i) for i in points["id"]]


def apply_weights(field: xr.DataArray, weights: sparse.csr_matrix, ids: list[str], dim: str = "area_id"):
    """Weighted means of a field ``(…, lat, lon)`` → ``(…, dim)``; missing cells are left out and weights renormalised.

    Returns an ``xarray.DataArray`` with the leading dimensions of ``field`` and a new last dimension ``dim``.
    """
    if field.dims[-2:] != ("lat", "lon"):
        field = field.transpose(..., "lat", "lon")
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
    """All gridded variables of ``ds`` (dims ``valid_time, lat, lon``) as a long table ``(dim, valid_time, vars…)``.

    1-D variables along ``valid_time`` (e.g. ``precip_hours``) and coordinates such as ``lead_hours`` are carried.
    """
    cols = {}
    for name, da in ds.data_vars.items():
        if da.dims[-2:] == ("lat", "lon"):
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
    return frame


def target_weights(lat: np.ndarray, lon: np.ndarray, targets: dict) -> tuple[sparse.csr_matrix, list[str]]:
    """Weights for a mix of targets: polygons give area means (:func:`polygon_weights`); points or multi-points
    give the mean of the bilinear values at the points (e.g. an area's monitoring stations)."""
    rows, ids = [], []
    polys = {k: g for k, g in targets.items() if g.geom_type in ("Polygon", "MultiPolygon")}
    pw, pids = polygon_weights(lat, lon, polys) if polys else (None, [])
    for target, geom in targets.items():
        if target in polys:
            rows.append(pw[pids.index(target)])
        elif geom.geom_type in ("Point", "MultiPoint"):
            pts = [geom] if geom.geom_type == "Point" else list(geom.geoms)
            frame = pd.DataFrame({"id": range(len(pts)), "lon": [p.x for p in pts], "lat": [p.y for p in pts]})
            w, _ = point_weights(lat, lon, frame)
            rows.append(sparse.csr_matrix(w.mean(axis=0)))
        else:
            raise ExtractionError(f"target {target}: geometry type {geom.geom_type} not supported; allowed: "
                                  "Polygon, MultiPolygon, Point, MultiPoint")
        ids.append(target)
    return sparse.vstack(rows).tocsr(), ids
