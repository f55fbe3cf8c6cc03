"""An S3 API server on 127.0.0.1 for off-host backup tests: moto's server mode (requirements-dev).

moto accepts any credentials unless told to authenticate: with INITIAL_NO_AUTH_ACTION_COUNT it
answers that many requests without checking, then demands a valid IAM key and signature. Those
first requests create the IAM user, its access key and its S3 policy, so every later request
(restic's) is checked like a real store would check it: a wrong secret is refused.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from testbed.processes import free_port, stop, wait_for

START_TIMEOUT_S = 30.0
REGION = "us-east-1"
BUCKET = "friday-offsite"
# create_user, create_access_key, put_user_policy: then every request is authenticated.
SETUP_REQUESTS = 3
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


@dataclass(frozen=True)
class S3Store:
    endpoint: str
    access_key_id: str
    secret_access_key: str

    def repository(self, path: str = "friday/dev") -> str:
        """The restic repository location in the bucket (what the stack's settings produce)."""
        return f"s3:{self.endpoint}/{BUCKET}/{path}"

    def env(self, password: str, *, secret: str | None = None) -> dict[str, str]:
        """restic's environment: the store's keys and the repository password."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": secret if secret is not None else self.secret_access_key,
            "RESTIC_PASSWORD": password,
        }

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def keys(self, prefix: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return [str(o["Key"]) for o in listed.get("Contents", [])]


@contextlib.contextmanager
def s3_store(workdir: Path) -> Iterator[S3Store]:
    """moto's S3 server on a free port with one authenticated user; stopped on leaving."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = workdir / "moto.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
            env={"PATH": "/usr/bin:/bin", "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_REQUESTS)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def up() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"moto_server exited {proc.returncode}: {log_path.read_text()}")
            # A TCP connect only: an HTTP request could count against the unauthenticated setup budget.
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
            except OSError:
                return False
            return True

        wait_for("moto's S3 server", up, START_TIMEOUT_S, log_path.read_text)
        iam = boto3.client(
            "iam", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="setup", aws_secret_access_key="setup"
        )
        iam.create_user(UserName="friday-backup")
        key = iam.create_access_key(UserName="friday-backup")["AccessKey"]
        iam.put_user_policy(UserName="friday-backup", PolicyName="s3", PolicyDocument=json.dumps(POLICY))
        yield S3Store(endpoint, str(key["AccessKeyId"]), str(key["SecretAccessKey"]))
    finally:
        stop(proc)
