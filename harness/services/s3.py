"""Service kind ``s3``: an S3-compatible object store. Locally, moto's server mode (from
PyPI, ``moto[server]``) as a process on 127.0.0.1 and a free port, checking signatures
against keys it issued; in Docker, moto's own image (taking any keys); or yours (AWS,
MinIO...) by endpoint URL, region and keys."""

from __future__ import annotations

import json
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness import defaults
from harness.services.base import Secret, ServiceError
from harness.services.code_digest import harness_code
from harness.services.kind import ContainerSpec, ServiceConfig, ServiceKind, option
from harness.services.local import Launch, LocalService
from harness.services.ports import LOOPBACK
from harness.services.privileges import ServiceUser
from harness.services.wait import NotReady


@dataclass(frozen=True)
class S3Config(ServiceConfig):
    endpoint: str | None = option(
        flag="--s3-endpoint",
        env="HARNESS_S3_ENDPOINT",
        help="an S3-compatible endpoint you run (https://s3.eu-west-1.amazonaws.com, MinIO...)",
        external=True,
    )
    region: str = option(defaults.S3_REGION, env="HARNESS_S3_REGION", help="the store's region")
    access_key: Secret | None = option(
        env="HARNESS_S3_ACCESS_KEY", help="access key id for --s3-endpoint", secret=True
    )
    secret_key: Secret | None = option(
        env="HARNESS_S3_SECRET_KEY", help="secret access key for --s3-endpoint", secret=True
    )
    image: str = option(
        defaults.S3_IMAGE, env="HARNESS_S3_IMAGE", help="docker image (moto's server)"
    )
    port: int | None = option(env="HARNESS_S3_PORT", help="fixed local port", parse=int)
    startup_timeout: float = option(
        defaults.S3_STARTUP_TIMEOUT,
        env="HARNESS_S3_STARTUP_TIMEOUT",
        help="seconds to wait for the local store",
        parse=float,
    )


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    region: str
    access_key: Secret = field(repr=False, metadata={"secret": True})
    secret_key: Secret = field(repr=False, metadata={"secret": True})
    version: str
    backend: str
    # Whether a wrong key or signature is refused: AWS, MinIO and our local moto (after
    # ``require_signatures``) refuse; moto in Docker takes anything.
    checks_signatures: bool = True
    # Local moto only: a file whose ISO time, while it holds one, stamps every object
    # written (s3_clock/sitecustomize.py). A store whose clock we cannot stop has none.
    clock_file: str | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or LOOPBACK

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    def location(self, reveal: bool = False) -> str:
        return f"{self.url} ({self.region})"

    def client(self, url: str | None = None) -> Any:
        """A boto3 S3 client on this store (or on ``url``, a proxy in front of it)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=url or self.url,
            region_name=self.region,
            aws_access_key_id=self.access_key.reveal(),
            aws_secret_access_key=self.secret_key.reveal(),
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        )


def moto_version() -> str:
    try:
        return metadata.version("moto")
    except metadata.PackageNotFoundError:
        return "?"


def check_moto(url: str) -> None:
    """moto answers an unsigned ListBuckets at / with its XML."""
    try:
        with urllib.request.urlopen(url + "/", timeout=3) as answer:
            body = answer.read(4096)
    except (OSError, urllib.error.URLError) as exc:
        raise NotReady(f"{type(exc).__name__}: {exc}") from None
    if b"ListAllMyBucketsResult" not in body:
        raise NotReady(f"{url} answers, but not as S3: {body[:120]!r}")


def require_signatures(url: str, region: str) -> tuple[Secret, Secret]:
    """Make moto check signatures, as a real store does: an IAM user allowed everything,
    its keys, then moto's switch that ends its unauthenticated start (reset-auth 0). A
    connector that signs wrongly, or a wrong secret, is then refused."""
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
    )
    iam.create_user(UserName="harness")
    allow_all = {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}  # fmt: skip
    iam.put_user_policy(UserName="harness", PolicyName="all", PolicyDocument=json.dumps(allow_all))
    key = iam.create_access_key(UserName="harness")["AccessKey"]
    switch = urllib.request.Request(
        f"{url}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "application/octet-stream"},
    )
    with urllib.request.urlopen(switch, timeout=10) as answer:
        answer.read()
    return Secret(key["AccessKeyId"]), Secret(key["SecretAccessKey"])


CLOCK_HOOK = Path(__file__).parent / "s3_clock"  # its sitecustomize stops moto's clock


def _generated_keys() -> tuple[Secret, Secret]:
    """moto takes any keys; generated ones keep the connector honest about signing."""
    return Secret("AKIA" + secrets.token_hex(8).upper()), Secret(secrets.token_urlsafe(30))


class LocalS3(LocalService):
    name = "s3"
    unprivileged = False  # our interpreter's package, run by our interpreter
    bind_failure_markers = ("Address already in use",)

    @classmethod
    def prepare(
        cls, config: S3Config, workdir: Path, user: ServiceUser
    ) -> tuple[str, Secret, Secret]:
        try:
            import moto.server  # noqa: F401
        except ImportError as exc:
            raise ServiceError(
                f"moto's server mode is not installed ({exc}); pip install 'moto[server]'"
            ) from None
        return (config.region, *_generated_keys())

    @classmethod
    def launch(cls, prepared: tuple[str, Secret, Secret], workdir: Path, port: int) -> Launch:
        region, access, secret = prepared
        url = f"http://{LOOPBACK}:{port}"
        clock = workdir / "s3-clock"  # s3_clock/sitecustomize.py reads it, in its cwd
        endpoint = S3Endpoint(
            url, region, access, secret, moto_version(), "local", False, str(clock)
        )
        return Launch(
            [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
            {
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": ":".join([str(CLOCK_HOOK), *(p for p in sys.path if p)]),
                "HOME": str(workdir),
            },
            endpoint,
            f"moto S3 {endpoint.version} on {url}",
        )

    @classmethod
    def ready(cls, endpoint: S3Endpoint) -> S3Endpoint:
        check_moto(endpoint.url)
        try:
            access, secret = require_signatures(endpoint.url, endpoint.region)
        except Exception as exc:  # botocore's and urllib's errors: moto's setup failed
            raise ServiceError(
                f"moto at {endpoint.url} answers, but switching on its signature checks "
                f"failed: {type(exc).__name__}: {exc}"
            ) from None
        return replace(endpoint, access_key=access, secret_key=secret, checks_signatures=True)


class S3Kind(ServiceKind):
    name = "s3"
    summary = "S3: moto's server locally or in Docker, or your endpoint and keys"
    config_class = S3Config
    endpoint_class = S3Endpoint
    name_separator = "-"
    name_limit = 50  # bucket names stop at 63 characters; fixtures add suffixes

    def start_local(self, config: S3Config, *, detached: bool) -> LocalS3:
        return LocalS3.start(config, detached=detached)

    def attach(self, config: S3Config) -> S3Endpoint:
        assert config.endpoint is not None
        if config.access_key is None or config.secret_key is None:
            raise ServiceError(
                f"--s3-endpoint {config.endpoint} needs keys: set HARNESS_S3_ACCESS_KEY and "
                "HARNESS_S3_SECRET_KEY"
            )
        endpoint = S3Endpoint(
            config.endpoint.rstrip("/"),
            config.region,
            config.access_key,
            config.secret_key,
            "?",
            "external",
        )
        try:
            endpoint.client().list_buckets()
        except Exception as exc:  # botocore's errors, connection errors
            raise ServiceError(
                f"the S3 endpoint {endpoint.url} does not answer a signed ListBuckets: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        return endpoint

    def container(self, config: S3Config) -> tuple[ContainerSpec, Callable[[str, int], Any]]:
        access, secret = _generated_keys()
        spec = ContainerSpec(image=config.image, port=5000, env={"MOTO_PORT": "5000"})
        version = config.image.split(":", 1)[1] if ":" in config.image else "?"
        return spec, lambda host, port: S3Endpoint(
            f"http://{host}:{port}", config.region, access, secret, version, "docker", False
        )

    def probe(self, endpoint: S3Endpoint) -> None:
        if endpoint.checks_signatures:
            try:
                endpoint.client().list_buckets()
            except Exception as exc:
                raise NotReady(f"{type(exc).__name__}: {exc}") from None
        else:
            check_moto(endpoint.url)

    def reuse_key(self, config: S3Config) -> str:
        return f"local s3 moto {moto_version()} code {harness_code()}"  # its clock hook

    def local_version(self, config: S3Config) -> str | None:
        version = moto_version()
        return None if version == "?" else version
