"""Street context: the non-building layers of a scene (terrain, roads, rails and water, areas, trees, sensors).

Buildings have :mod:`twin.records`, :mod:`twin.repair` and :mod:`twin.mesh`; everything else a scene shows
around them lives here, in the same shape:

- :mod:`.records`: the records: :class:`Terrain` (a height raster with its transform and CRS),
  :class:`LineFeature` (roads, paths, rails, waterways, with a kind, a width and the source's tags),
  :class:`AreaFeature` (landuse, water, green and paved polygons) and :class:`PointFeature` (trees, street
  furniture, sensor stations); :mod:`.project` brings each into the working CRS (as
  :func:`twin.crs.project_building` does for buildings).
- Terrain: :mod:`.dem` reads a DEM (GeoTIFF, SRTM) into a working-CRS height grid, :mod:`.terrain` samples the
  ground and meshes an LoD pyramid, :mod:`.terrain_tiles` encodes its tiles, :mod:`.terrain_layer` is the
  build's terrain layer.
- To come (later issues): readers of context sources yielding these records (OSM ``highway``/``railway``/
  ``waterway`` lines, ``landuse``/``natural``/``leisure`` areas, ``natural=tree`` points; municipal tree
  cadastres), their meshes (ribbons draped on the terrain, area polygons, instanced trees) and their tile
  layers next to the city's. Sensor stations keep their readings in :mod:`twin.sensors`; a
  :class:`PointFeature` of kind ``sensor_station`` is where one stands in the scene.

Records here do no I/O, like :mod:`twin.records`.
"""
