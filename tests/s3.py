"""A real S3 API for tests: moto in server mode, on a free local port, spoken to over HTTP by boto3
exactly as the application speaks to a production store. Credentials are dummies passed explicitly,
never put into the process environment."""

from __future__ import annotations

import logging
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "testing-access-key"
SECRET_ACCESS_KEY = "testing-secret-key"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class MotoS3:
    server: ThreadedMotoServer
    endpoint_url: str
    client: Any = field(repr=False)

    @classmethod
    def start(cls) -> MotoS3:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY_ID,
                              aws_secret_access_key=SECRET_ACCESS_KEY,
                              config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10))
        return cls(server, endpoint, client)

    def stop(self) -> None:
        self.server.stop()

    def new_bucket(self, prefix: str = "market-test") -> str:
        """A bucket of its own for one test, so what a test finds in the store is what it put there."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        out: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            out.extend(obj["Key"] for obj in page.get("Contents", []))
        return sorted(out)

    def content_type(self, bucket: str, key: str) -> str:
        return self.client.head_object(Bucket=bucket, Key=key)["ContentType"]

    def drop_bucket(self, bucket: str) -> None:
        for key in self.keys(bucket):
            self.client.delete_object(Bucket=bucket, Key=key)
        self.client.delete_bucket(Bucket=bucket)
