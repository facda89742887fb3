"""File storage backends: a local directory (the default) and any S3 API through boto3."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

_KEY = re.compile(r"^[0-9a-z]+(?:/[0-9a-z-]+)*$")


def check_key(key: str) -> str:
    """Keys are ours, but check anyway: nothing that could climb out of the store."""
    if not _KEY.fullmatch(key) or ".." in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"invalid storage key {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str = "us-east-1",
                 access_key_id: str | None = None, secret_access_key: str | None = None) -> None:
        self.bucket = bucket
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30),
        )

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with _failures(key):
            self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        with _failures(key):
            data: bytes = self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"].read()
            return data

    def delete(self, key: str) -> None:
        with _failures(key):
            self.client.delete_object(Bucket=self.bucket, Key=check_key(key))


@contextmanager
def _failures(key: str) -> Iterator[None]:
    """S3's failures as the local store's are: a missing key is FileNotFoundError, anything else an
    OSError, which the periodic jobs' loop reports and outlives (botocore's own errors would end it)."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("NoSuchKey", "404"):
            raise FileNotFoundError(key) from None
        raise OSError(f"S3 refused {key}: {code}") from exc
    except BotoCoreError as exc:
        raise OSError(f"S3 could not be reached for {key}: {exc}") from exc
