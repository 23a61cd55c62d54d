"""The one district lookup: every way of naming a district finds the same one, everywhere.

Before the lookup had one home, "Jinshan District" clipped the map but made
``zoning.indicators()`` raise: three copies of the matching disagreed.
"""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

import zoning
from zoning.errors import UnknownDistrictError

NAMES = ["金山区", "金山", "Jinshan", "Jinshan District", "jinshan district", " JINSHAN ", "310116"]


@pytest.fixture(scope="module")
def layers():
    return zoning.load_catalog()


@pytest.mark.parametrize("name", NAMES)
def test_every_name_finds_jinshan(layers, name):
    d = layers.district(name)
    assert d.name == "金山区"
    assert d.name_en == "Jinshan"
    assert "310116" in d.codes


def test_districts_are_the_sixteen_in_catalog_order(layers):
    names = [d.name for d in layers.districts()]
    assert len(names) == 16
    assert names[0] == "黄浦区" and names[-1] == "崇明区"
    gdf = layers.of_kind("district")[0].gdf
    jinshan = gdf[gdf["name"] == "金山区"].geometry.iloc[0]
    # the district's geometry is its row's geometry (an independent read of the layer)
    assert shapely.equals(layers.district("金山区").geometry, jinshan)
    assert layers.district("金山区").population == float(
        gdf.loc[gdf["name"] == "金山区", "population"].iloc[0]
    )


def test_pudong_by_short_chinese_name(layers):
    assert layers.district("浦东").name == "浦东新区"
    assert layers.district("Pudong New Area").name == "浦东新区"


def test_unknown_district_lists_the_known_ones(layers):
    with pytest.raises(
        UnknownDistrictError, match=r"unknown district 'Atlantis' \(known: 黄浦区, "
    ):
        layers.district("Atlantis")
    with pytest.raises(KeyError):  # also a KeyError, for callers that do not know the package
        layers.district("Atlantis")


def test_indicators_accept_every_name_the_map_accepts(layers):
    by_zh = zoning.indicators(layers, district="金山区")
    for name in ("Jinshan District", "Jinshan", "310116"):
        other = zoning.indicators(layers, district=name)
        pd.testing.assert_frame_equal(by_zh, other)
    assert set(by_zh["district"].dropna()) == {"金山区"}


AGREE = ["Jinshan District", "金山", "310116"]


@pytest.mark.parametrize("name", AGREE)
def test_map_clip_is_the_district_of_the_lookup(layers, name):
    from zoning.webmap.overview import resolve_clip

    area = resolve_clip(layers, name)
    assert shapely.equals(area, layers.district(name).geometry)
    assert shapely.equals(area, resolve_clip(layers, "金山区"))


def test_map_clip_of_an_unknown_district_keeps_its_message(layers):
    from zoning.webmap.overview import resolve_clip

    with pytest.raises(UnknownDistrictError, match="no district named 'Atlantis'"):
        resolve_clip(layers, "Atlantis")


@pytest.mark.parametrize("name", AGREE)
def test_publish_district_list_agrees_with_the_lookup(layers, name):
    from zoning.publish import districts_of

    listed = districts_of(layers)
    assert [d.name for d in listed] == [d.name for d in layers.districts()]
    wanted = layers.district(name)
    (page,) = [d for d in listed if d.name == wanted.name]
    assert page.name_en == wanted.name_en == "Jinshan"
    assert page.slug == "jinshan"
    assert shapely.equals(page.geometry, wanted.geometry)
    assert page.area_km2 == pytest.approx(wanted.geometry.area / 1e6)


def test_raster_zones_by_district_agree_with_the_lookup(layers):
    pytest.importorskip("rasterio")
    from zoning.raster.zonal import DEMO_RASTER, zonal_stats

    df = zonal_stats(DEMO_RASTER, by="districts", layers=layers)
    assert df["zone_name"].tolist() == [d.name for d in layers.districts()]
    for name in AGREE:
        d = layers.district(name)
        (row,) = df[df["zone_name"] == d.name].to_dict("records")
        assert row["zone_id"] in d.codes
