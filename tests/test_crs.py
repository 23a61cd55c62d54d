"""GCJ-02 / BD-09 conversion against an independent implementation, and CRS parsing."""

from __future__ import annotations

import numpy as np
import prcoords  # independent, public-domain implementation (test oracle)
import pyproj
import pytest

from zoning import crs
from zoning.errors import CRSError

GEOD = pyproj.Geod(ellps="WGS84")
RNG = np.random.default_rng(20261122)
# Points spread over Shanghai's land and sea (lon 120.85-122.2, lat 30.65-31.9).
LON = RNG.uniform(120.85, 122.2, 400)
LAT = RNG.uniform(30.65, 31.9, 400)


def test_wgs_to_gcj_matches_prcoords():
    glon, glat = crs.wgs84_to_gcj02(LON, LAT)
    ref = np.array([prcoords.wgs_gcj((la, lo)) for lo, la in zip(LON, LAT, strict=True)])
    assert np.allclose(glon, ref[:, 1], atol=1e-9, rtol=0)
    assert np.allclose(glat, ref[:, 0], atol=1e-9, rtol=0)
    # The shift in Shanghai is the familiar few hundred metres.
    dist = GEOD.inv(LON, LAT, glon, glat)[2]
    assert 300 < dist.min() and dist.max() < 700


def test_gcj_to_wgs_round_trip_under_half_a_metre():
    glon, glat = crs.wgs84_to_gcj02(LON, LAT)
    wlon, wlat = crs.gcj02_to_wgs84(glon, glat)
    assert GEOD.inv(LON, LAT, wlon, wlat)[2].max() < 0.5
    # and the inverse agrees with prcoords' exact (iterative) inverse
    ref = np.array([prcoords.gcj_wgs_bored((la, lo)) for lo, la in zip(glon, glat, strict=True)])
    assert GEOD.inv(ref[:, 1], ref[:, 0], wlon, wlat)[2].max() < 0.5


def test_bd09_matches_prcoords_and_round_trips():
    blon, blat = crs.wgs84_to_bd09(LON, LAT)
    ref = np.array([prcoords.wgs_bd((la, lo)) for lo, la in zip(LON, LAT, strict=True)])
    assert np.allclose(blon, ref[:, 1], atol=1e-9, rtol=0)
    assert np.allclose(blat, ref[:, 0], atol=1e-9, rtol=0)
    wlon, wlat = crs.bd09_to_wgs84(blon, blat)
    assert GEOD.inv(LON, LAT, wlon, wlat)[2].max() < 0.5


def test_no_shift_outside_china():
    lon, lat = crs.wgs84_to_gcj02([2.35], [48.85])
    assert lon[0] == 2.35 and lat[0] == 48.85


@pytest.mark.parametrize(
    ("value", "label", "pseudo"),
    [
        ("EPSG:4490", "EPSG:4490", None),
        ("4549", "EPSG:4549", None),
        ("gcj02", "gcj02", "gcj02"),
        ("GCJ-02", "gcj02", "gcj02"),
        ("bd09", "bd09", "bd09"),
    ],
)
def test_parse_crs(value, label, pseudo):
    parsed = crs.parse_crs(value)
    assert parsed.label == label and parsed.pseudo == pseudo


def test_parse_crs_rejects_nonsense():
    with pytest.raises(CRSError, match="not a CRS"):
        crs.parse_crs("EPSG:99999999")


def test_working_crs_distances_are_geodesic():
    t = pyproj.Transformer.from_crs(4326, crs.WORKING_CRS, always_xy=True)
    lon2, lat2 = RNG.uniform(120.85, 122.2, 400), RNG.uniform(30.65, 31.9, 400)
    x1, y1 = t.transform(LON, LAT)
    x2, y2 = t.transform(lon2, lat2)
    planar = np.hypot(x2 - x1, y2 - y1)
    geodesic = GEOD.inv(LON, LAT, lon2, lat2)[2]
    assert np.max(np.abs(planar - geodesic) / geodesic) < 1e-4
