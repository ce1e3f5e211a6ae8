"""A real S3 protocol server for the object-store tests: moto's server mode on a free loopback port.

``s3_server`` (session) starts ``ThreadedMotoServer`` once and sets the AWS_* variables obstore reads;
``s3_bucket`` makes a fresh bucket per test and yields its ``s3://`` URL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from liveserver import free_port

#: Credentials moto accepts (it checks none); obstore and boto3 both read them from the environment.
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class S3Server:
    """The endpoint (``http://127.0.0.1:PORT``) of the running moto server."""

    endpoint: str


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server for the whole test session (real HTTP, real S3 protocol)."""
    moto_server = pytest.importorskip("moto.server")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {k: os.environ.get(k) for k in [*FAKE_ENV, "TWIN_S3_ENDPOINT"]}
    os.environ.update(FAKE_ENV)
    os.environ["TWIN_S3_ENDPOINT"] = f"http://127.0.0.1:{port}"
    try:
        yield S3Server(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A new empty bucket; returns ``s3://<bucket>``."""
    import boto3

    name = f"twin-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server.endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return f"s3://{name}"
