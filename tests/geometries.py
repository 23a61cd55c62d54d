"""One geometry of every type, empty and 3-D included (the table of shapely's tests/common.py).

Every geometry lies in lon/lat near People's Square, Shanghai (121.40-121.43 E, 31.20-31.22 N),
inside the 0.1° square :data:`COVER`, so a test can screen it, or hand it to the engine as it is.
Tests parametrize over :data:`GEOMETRIES` (``ids`` are the keys) and state, per type, what the
code under test does with it.
"""

from __future__ import annotations

import shapely
from shapely.geometry import (
    GeometryCollection,
    LinearRing,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    box,
)

#: A square that holds every geometry of the table.
COVER = box(121.35, 31.15, 121.45, 31.25)

point = Point(121.402, 31.202)
line_string = LineString([(121.40, 31.205), (121.41, 31.205)])
linear_ring = LinearRing([(121.40, 31.20), (121.41, 31.20), (121.41, 31.21), (121.40, 31.20)])
polygon = box(121.40, 31.20, 121.41, 31.21)
polygon_with_hole = Polygon(
    polygon.exterior.coords, [box(121.403, 31.203, 121.406, 31.206).exterior.coords]
)
multi_point = MultiPoint([(121.402, 31.202), (121.42, 31.21)])
multi_line_string = MultiLineString(
    [[(121.40, 31.205), (121.41, 31.205)], [(121.42, 31.21), (121.43, 31.22)]]
)
multi_polygon = MultiPolygon([polygon, box(121.42, 31.21, 121.43, 31.22)])
geometry_collection = GeometryCollection([point, line_string])

point_z = shapely.force_3d(point, 7.5)
line_string_z = shapely.force_3d(line_string, 7.5)
linear_ring_z = shapely.force_3d(linear_ring, 7.5)
polygon_z = shapely.force_3d(polygon, 7.5)
multi_point_z = shapely.force_3d(multi_point, 7.5)
multi_line_string_z = shapely.force_3d(multi_line_string, 7.5)
multi_polygon_z = shapely.force_3d(multi_polygon, 7.5)
geometry_collection_z = shapely.force_3d(geometry_collection, 7.5)

empty_point = Point()
empty_line_string = LineString()
empty_linear_ring = LinearRing()
empty_polygon = Polygon()
empty_multi_point = MultiPoint()
empty_multi_line_string = MultiLineString()
empty_multi_polygon = MultiPolygon()
empty_geometry_collection = GeometryCollection()

#: name -> geometry: every type, its 3-D twin and its empty form.
GEOMETRIES = {
    "point": point,
    "line_string": line_string,
    "linear_ring": linear_ring,
    "polygon": polygon,
    "polygon_with_hole": polygon_with_hole,
    "multi_point": multi_point,
    "multi_line_string": multi_line_string,
    "multi_polygon": multi_polygon,
    "geometry_collection": geometry_collection,
    "point_z": point_z,
    "line_string_z": line_string_z,
    "linear_ring_z": linear_ring_z,
    "polygon_z": polygon_z,
    "multi_point_z": multi_point_z,
    "multi_line_string_z": multi_line_string_z,
    "multi_polygon_z": multi_polygon_z,
    "geometry_collection_z": geometry_collection_z,
    "empty_point": empty_point,
    "empty_line_string": empty_line_string,
    "empty_linear_ring": empty_linear_ring,
    "empty_polygon": empty_polygon,
    "empty_multi_point": empty_multi_point,
    "empty_multi_line_string": empty_multi_line_string,
    "empty_multi_polygon": empty_multi_polygon,
    "empty_geometry_collection": empty_geometry_collection,
}
