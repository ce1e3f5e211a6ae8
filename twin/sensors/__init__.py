"""Traffic sensors: SensorThings pages to station and observation records, fetched or recorded, per scene."""

from twin.sensors.aggregate import BUCKETS, bucket_edges, bucket_sums, summary
from twin.sensors.parse import parse_page
from twin.sensors.records import IngestReport, Observation, Station
from twin.sensors.spec import SensorSourceSpec, parse_sensor_sources

__all__ = [
    "BUCKETS",
    "IngestReport",
    "Observation",
    "SensorSourceSpec",
    "Station",
    "bucket_edges",
    "bucket_sums",
    "parse_page",
    "parse_sensor_sources",
    "summary",
]
