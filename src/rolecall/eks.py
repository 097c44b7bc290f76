"""EKS bearer tokens: ``rolecall eks token`` prints what ``aws eks get-token`` prints, and caches it.

The token is ``k8s-aws-v1.`` followed by the base64url (no padding) of a presigned STS GetCallerIdentity URL
(``X-Amz-Expires=60``) whose signed headers include ``x-k8s-aws-id: CLUSTER``. The ExecCredential document
(``client.authentication.k8s.io/v1beta1``) says it expires 14 minutes after it was made, as the AWS CLI does;
kubectl keeps it in memory only, so every new kubectl process asks again: rolecall keeps it in a 0600 file under
its folder until a minute before that time (or before the credentials that signed it expire, if sooner), and a
cached answer is read without importing botocore, argparse, json or re (the hot path, ``cli/fastargs.py``).

Cache file: ``<rolecall folder>/eks/<sha256 of profile, cluster, region, role>``; its first line is the Unix
time after which it is not used, the rest is the document printed.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime

    from rolecall.aws.settings import StsSettings
    from rolecall.aws.transport import Transport
    from rolecall.credentials import Credentials

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"
#: X-Amz-Expires of the presigned URL (as the AWS CLI sets it).
URL_EXPIRES = 60
#: How long the ExecCredential says the token lives (the AWS CLI: 14 minutes; EKS accepts 15).
TOKEN_MINUTES = 14
#: A cached token is not handed out in its last minute.
CACHE_MARGIN = 60
API_VERSION = "client.authentication.k8s.io/v1beta1"


def cache_path(rolecall_dir: str, profile: str, cluster: str, region: str, role_arn: str) -> str:
    """Where the token for these inputs is cached (the name is a hash: no cluster name in a file name). SHA-1
    through ``fastjson.sha1_hex``, as the other caches name their files: ``hashlib`` would cost the hot path
    milliseconds to import."""
    from rolecall.fastjson import sha1_hex

    return os.path.join(rolecall_dir, "eks", sha1_hex("\0".join((profile, cluster, region, role_arn))))


def cached(path: str, now: float) -> str | None:
    """The cached document at ``path`` if it is still good at ``now`` (Unix time), else None. No heavy imports.

    Only a plain file of this user's (or root's), that group and others cannot write, in a folder of theirs, is
    read (``guardedread``): in a cache folder others can write, an entry they planted would hand kubectl their
    token, and a named pipe would block it for ever. Anything else is a miss, and the new token replaces it.
    """
    from rolecall.guardedread import read_regular_file
    from rolecall.ownership import trusted_owner

    try:
        raw = read_regular_file(path, 65536, private=True)
        if raw is None or not trusted_owner(os.stat(os.path.dirname(path)).st_uid):
            return None
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):  # UntrustedFileError is an OSError
        return None
    stamp, newline, document = text.partition("\n")
    if not newline or not stamp.isdigit() or now >= int(stamp):
        return None
    from rolecall import replayrecord

    if replayrecord.recording():  # the token is the secret a replay reads from this file (rolecall.replay)
        from rolecall.fastjson import loads

        status = loads(document).get("status") or {}
        replayrecord.note_served(path, (status.get("token"),), int(stamp))
    return document


def token_from_url(url: str) -> str:
    """``k8s-aws-v1.`` + base64url(url) without padding."""
    import base64

    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def exec_credential(token: str, expiration: datetime) -> str:
    """The ExecCredential document, laid out as ``aws eks get-token`` prints it (4-space JSON)."""
    import json

    from rolecall.timefmt import format_iso_z

    document = {
        "kind": "ExecCredential",
        "apiVersion": API_VERSION,
        "spec": {},
        "status": {"expirationTimestamp": format_iso_z(expiration), "token": token},
    }
    return json.dumps(document, indent=4) + "\n"


def new_token(
    transport: Transport, settings: StsSettings, credentials: Credentials, cluster: str, now: datetime
) -> tuple[str, float]:
    """A fresh document for ``cluster`` and the Unix time until which it may be cached."""
    from datetime import timedelta

    from rolecall.aws.transport.presign import presigned_caller_identity

    url = presigned_caller_identity(transport, settings, credentials, (CLUSTER_HEADER, cluster), URL_EXPIRES)
    expiration = (now + timedelta(minutes=TOKEN_MINUTES)).replace(microsecond=0)
    good_until = expiration.timestamp() - CACHE_MARGIN
    if credentials.expiration is not None:
        good_until = min(good_until, credentials.expiration.timestamp() - CACHE_MARGIN)
    return exec_credential(token_from_url(url), expiration), good_until


def store(path: str, document: str, good_until: float) -> None:
    """Cache ``document`` (0600, in a private folder, written atomically)."""
    from rolecall import fileio

    fileio.atomic_write(path, f"{int(good_until)}\n{document}".encode(), mode=0o600, private=True)


def kubeconfig_user(name: str, cluster: str, profile: str | None, region: str | None) -> str:
    """The kubeconfig ``users:`` entry that makes kubectl call ``rolecall eks token``."""
    args = ["eks", "token", "--cluster-name", cluster]
    if profile:
        args += ["--profile", profile]
    if region:
        args += ["--region", region]
    lines = ["users:", f"- name: {name}", "  user:", "    exec:", f"      apiVersion: {API_VERSION}",
             "      command: rolecall", "      args:"]  # fmt: skip
    lines += [f"        - {arg}" for arg in args]
    lines += ["      interactiveMode: IfAvailable", "      provideClusterInfo: false"]
    return "\n".join(lines) + "\n"
