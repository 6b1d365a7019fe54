"""One directory of files, put into each kind of storage symbolsrv reads, for the real-client
tests: what a client downloads must be the same bytes whatever kind of store held them.

    local  file://<directory>               symbolsrv answers 200 with the bytes
    s3     s3://<fresh bucket> on moto      302 to the public object URL (ACL public-read)
    gcs    gs://<fresh bucket>?anonymous=true on fake-gcs-server, 302 to the emulator's URL
    http   http://127.0.0.1:<port>/ of an http.server over the directory, 302 to it

Each store holds the directory's relative paths as keys, as they are (debug_file/debug_id/file,
or buildid/<id>/debuginfo).
"""

from __future__ import annotations

import uuid
from pathlib import Path

STORE_KINDS = ("local", "s3", "gcs", "http")


def relative_files(directory: Path) -> list[str]:
    """Every file under `directory`, as a POSIX path relative to it."""
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def fresh_bucket_name(kind: str) -> str:
    # Lower case, digits and dashes: valid for both S3 and GCS.
    return f"client-{kind}-{uuid.uuid4().hex[:12]}"


def upload_to_s3(client, bucket: str, directory: Path) -> None:
    """Create `bucket` (boto3 `client`) holding every file under `directory`, public-read:
    moto, like S3, answers 403 to an anonymous GET of a private object."""
    client.create_bucket(Bucket=bucket)
    for path in relative_files(directory):
        client.put_object(Bucket=bucket, Key=path, Body=(directory / path).read_bytes(),
                          ACL="public-read")


def gcs_client(endpoint: str):
    """A google-cloud-storage client for the fake-gcs-server at `endpoint`, anonymous and
    independent of this process's environment (STORAGE_EMULATOR_HOST, credentials)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project="test-project", credentials=AnonymousCredentials(),
                          client_options={"api_endpoint": endpoint})


def upload_to_gcs(client, bucket: str, directory: Path) -> None:
    """Create `bucket` holding every file under `directory` (fake-gcs-server serves every
    object at its public URL)."""
    created = client.create_bucket(bucket)
    for path in relative_files(directory):
        # Stored as opaque bytes: no content type guessed from the name, no encoding.
        created.blob(path).upload_from_filename(str(directory / path),
                                                content_type="application/octet-stream")
