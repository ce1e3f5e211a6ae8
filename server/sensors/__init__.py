"""Sensor stations of a scene on the server: ingest (recorded or live, on a schedule) and the public queries."""
