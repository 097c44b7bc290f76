"""The only place in rolecall (outside ``rolecall.sandbox``) that imports botocore, always lazily, inside the
functions that need it (importing this package costs no botocore).

* ``client``: :class:`Transport` (botocore sessions and clients, cached; the raw call) and :data:`DEFAULT`;
* ``guards``: the response parser whose failures carry no body, the log filter masking secrets;
* ``translate``: botocore's exceptions -> rolecall errors (AWS refusals through ``rolecall.aws.hints``);
* ``sources``: the credential sources only botocore knows (``aws login``, container, IMDS) and the IMDS region;
* ``refreshing``: a boto3 ``Session`` refreshing through rolecall (``rolecall.boto3_session``).
"""

from __future__ import annotations

from rolecall.aws.transport.client import DEFAULT, Transport, bypass_proxy, clear_caches, endpoint_is_valid
from rolecall.aws.transport.refreshing import refreshing_boto3_session, require_boto3
from rolecall.aws.transport.sources import botocore_source_credentials, imds_region

__all__ = [
    "DEFAULT",
    "Transport",
    "botocore_source_credentials",
    "bypass_proxy",
    "clear_caches",
    "endpoint_is_valid",
    "imds_region",
    "refreshing_boto3_session",
    "require_boto3",
]
