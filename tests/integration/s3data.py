"""shared/data/symbols spread over three moto S3 buckets, as an operator's split buckets would be.

Layout (every key under the prefix `v1/`, the relative path of the file as the rest):

    A  symbols-a  public   the most requested half of the files
    B  symbols-b  public   the next part
    C  symbols-c  private  the rest; symbolsrv redirects to presigned URLs

Public buckets' objects are uploaded with ACL public-read: moto, like S3, answers 403 to an
anonymous GET otherwise. The split is by how often the workload asks for a file, so most hits
cost symbolsrv one HeadObject (moto spends ~1.6 ms CPU per HEAD; a miss costs three).

Two files are stored twice, to check first-hit-wins in INI order on real HTTP: the most
requested file of A also in B, and the most requested file of B also in C. symbolsrv must
name A (resp. B) in Location.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

PREFIX = "v1/"


@dataclass(frozen=True)
class Bucket:
    name: str
    private: bool = False

    @property
    def location(self) -> str:
        return f"s3://{self.name}/v1" + ("?private=true" if self.private else "")


A = Bucket("symbols-a")
B = Bucket("symbols-b")
C = Bucket("symbols-c", private=True)
BUCKETS = (A, B, C)


def s3_client(endpoint: str):
    """A boto3 client for the moto at `endpoint`, independent of this process's environment."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )


def symbol_files(symbols_dir: Path) -> list[str]:
    """Relative paths ('debug_file/debug_id/file') of every file under symbols/."""
    return sorted(p.relative_to(symbols_dir).as_posix() for p in symbols_dir.rglob("*")
                  if p.is_file())


def popularity(labels) -> collections.Counter:
    """How often the workload asks for each stored file (hit and legacy-hit details)."""
    return collections.Counter(detail for cls, detail in labels if cls in ("hit", "legacy-hit"))


@dataclass
class SymbolBuckets:
    """Which bucket(s) hold which file, and how to (re)create them on a moto server."""

    symbols_dir: Path
    holders: dict[str, list[Bucket]] = field(default_factory=dict)  # detail -> buckets, in order

    @classmethod
    def split(cls, symbols_dir: Path, labels) -> "SymbolBuckets":
        files = symbol_files(symbols_dir)
        rank = popularity(labels)
        ordered = sorted(files, key=lambda f: (-rank[f], f))
        half = (len(ordered) + 1) // 2
        b_end = half + (len(ordered) - half + 1) // 2
        parts = {A: ordered[:half], B: ordered[half:b_end], C: ordered[b_end:]}
        holders = {f: [bucket] for bucket, part in parts.items() for f in part}
        holders[parts[A][0]].append(B)
        holders[parts[B][0]].append(C)
        return cls(symbols_dir, holders)

    @property
    def locations(self) -> list[str]:
        return [b.location for b in BUCKETS]

    def files_in(self, bucket: Bucket) -> list[str]:
        return sorted(f for f, bs in self.holders.items() if bucket in bs)

    def first_bucket(self, detail: str) -> Bucket:
        return self.holders[detail][0]

    def data(self, detail: str) -> bytes:
        return (self.symbols_dir / detail).read_bytes()

    def upload(self, client, buckets=BUCKETS) -> None:
        """Create the buckets and put every object (call again after a moto restart)."""
        for bucket in buckets:
            client.create_bucket(Bucket=bucket.name)
            extra = {} if bucket.private else {"ACL": "public-read"}
            for detail in self.files_in(bucket):
                client.put_object(Bucket=bucket.name, Key=PREFIX + detail, Body=self.data(detail),
                                  **extra)


def public_url(endpoint: str, bucket: Bucket, key: str) -> str:
    """The path-style URL symbolsrv puts in Location for a public object on a custom endpoint."""
    return f"{endpoint}/{bucket.name}/{quote(PREFIX + key, safe='/-_.~')}"
