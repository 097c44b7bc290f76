"""The AWS web console signed in with temporary credentials: the federation sign-in URL (custom federation
broker, IAM User Guide "Enable custom identity broker access to the AWS console").

1. ``GET <federation endpoint>?Action=getSigninToken&Session=<JSON>[&SessionDuration=N]``, the session JSON
   being ``{"sessionId", "sessionKey", "sessionToken"}`` of temporary credentials (AssumeRole*, GetRoleCredentials
   or GetFederationToken ones; the endpoint refuses long-term keys and GetSessionToken credentials). AWS allows
   ``SessionDuration`` (900-43200 s) only for role credentials, and refuses it for role-chained ones above 1 h.
2. ``<federation endpoint>?Action=login&Issuer=…&Destination=…&SigninToken=…``: the sign-in URL, valid 15
   minutes. It is a secret: whoever opens it is signed in as the role.

Partitions (aws, aws-us-gov, aws-cn) give the endpoint and the console host; a profile's
``console_federation_endpoint`` (or ROLECALL_FEDERATION_ENDPOINT) overrides the endpoint for private partitions
and for the sandbox. Off the fast path; the HTTP call uses the stdlib only.
"""

from __future__ import annotations

import json
import os

from rolecall.config.profiles import REGION_HINT, is_valid_region
from rolecall.errors import AwsError, InvalidInputError, NetworkError
from rolecall.limits import CHAINING_CAP_SECONDS, CONSOLE_DURATION_MAX, CONSOLE_DURATION_MIN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.credentials import Credentials

#: partition -> (federation endpoint, console host)
PARTITIONS = {
    "aws": ("https://signin.aws.amazon.com/federation", "console.aws.amazon.com"),
    "aws-us-gov": ("https://signin.amazonaws-us-gov.com/federation", "console.amazonaws-us-gov.com"),
    "aws-cn": ("https://signin.amazonaws.cn/federation", "console.amazonaws.cn"),
}
#: The environment variable and the profile key that override the federation endpoint.
ENDPOINT_VARIABLE = "ROLECALL_FEDERATION_ENDPOINT"
ENDPOINT_KEY = "console_federation_endpoint"
#: Where a person is sent when the console session ends.
ISSUER = "https://github.com/rolecall/rolecall"
#: How long a sign-in URL works (AWS: 15 minutes).
SIGNIN_URL_LIFETIME = 15 * 60
#: ``--service`` short names -> console paths.
SERVICES = {
    "console": "console/home",
    "home": "console/home",
    "s3": "s3/home",
    "ec2": "ec2/home",
    "cloudwatch": "cloudwatch/home",
    "logs": "cloudwatch/home#logsV2:log-groups",
    "iam": "iam/home",
    "lambda": "lambda/home",
    "dynamodb": "dynamodbv2/home",
    "rds": "rds/home",
    "ecs": "ecs/v2/home",
    "eks": "eks/home",
    "ecr": "ecr/home",
    "cloudformation": "cloudformation/home",
    "cloudtrail": "cloudtrail/home",
    "sqs": "sqs/v3/home",
    "sns": "sns/v3/home",
    "kms": "kms/home",
    "secretsmanager": "secretsmanager/home",
    "ssm": "systems-manager/home",
    "route53": "route53/v2/home",
    "vpc": "vpc/home",
    "billing": "billing/home",
    "organizations": "organizations/v2/home",
    "sso": "singlesignon/home",
    "stepfunctions": "states/home",
    "apigateway": "apigateway/main",
    "athena": "athena/home",
    "glue": "glue/home",
    "kinesis": "kinesis/home",
    "sagemaker": "sagemaker/home",
    "config": "config/home",
    "guardduty": "guardduty/home",
    "securityhub": "securityhub/home",
    "acm": "acm/home",
    "elasticache": "elasticache/home",
    "opensearch": "aos/home",
    "redshift": "redshiftv2/home",
    "codepipeline": "codesuite/codepipeline/home",
    "codebuild": "codesuite/codebuild/home",
}
#: GetFederationToken's session policy for a console session of an IAM user: everything the user may do (the
#: effective permissions are the intersection with the user's own policies).
ALLOW_ALL_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                                         "Resource": "*"}]})  # fmt: skip


def partition_for(arn: str | None, region: str | None) -> str:
    """The partition of a role ARN (``arn:aws-us-gov:...``), else of the region (``cn-``, ``us-gov-``), else aws."""
    if arn and arn.startswith("arn:"):
        name = arn.split(":")[1]
        if name in PARTITIONS:
            return name
    if region:
        if region.startswith("cn-"):
            return "aws-cn"
        if region.startswith("us-gov-"):
            return "aws-us-gov"
    return "aws"


def federation_endpoint(partition: str, env: Mapping[str, str], profile: Mapping[str, object] | None) -> str:
    """The federation endpoint: ROLECALL_FEDERATION_ENDPOINT, the profile's ``console_federation_endpoint``, or
    the partition's own."""
    override = env.get(ENDPOINT_VARIABLE) or (profile or {}).get(ENDPOINT_KEY)
    if isinstance(override, str) and override.strip():
        url = override.strip()
        if not url.startswith(("https://", "http://")):
            raise InvalidInputError(
                f"the federation endpoint {url!r} is not an http(s) URL",
                hint=f"set {ENDPOINT_VARIABLE} or {ENDPOINT_KEY} to e.g. https://signin.example.com/federation",
            )
        return url
    return PARTITIONS[partition][0]


def destination_url(partition: str, region: str | None, service: str | None = None) -> str:
    """The console page to land on: ``--service`` (a short name or a console path) in ``region``."""
    host = PARTITIONS[partition][1]
    path = "console/home"
    if service:
        key = service.strip().lower()
        if key in SERVICES:
            path = SERVICES[key]
        elif all(char.isalnum() or char in "-/" for char in key) and key:
            path = f"{key}/home"  # a service the table does not list: the console's usual layout
        else:
            raise InvalidInputError(
                f"--service {service!r} is not a console service name",
                hint="use a short name such as s3, ec2, cloudwatch, iam, lambda (or --destination URL)",
            )
    if region and not is_valid_region(region):
        # The region is part of the host name: anything but a DNS label would send the browser elsewhere.
        raise InvalidInputError(f"the region {region!r} is not a valid region name", hint=REGION_HINT)
    base = f"https://{region}.{host}" if region and partition == "aws" else f"https://{host}"
    fragment = ""
    if "#" in path:
        path, fragment = path.split("#", 1)
        fragment = "#" + fragment
    return f"{base}/{path}" + (f"?region={region}" if region else "") + fragment


def check_destination(url: str) -> str:
    """``--destination``: an https URL (the federation endpoint refuses anything else)."""
    if not url.startswith("https://") or len(url) > 2048:
        raise InvalidInputError(
            "--destination must be an https:// console URL of at most 2048 characters",
            hint="e.g. --destination https://us-east-1.console.aws.amazon.com/ec2/home",
        )
    return url


def check_duration(seconds: int, *, chained: bool) -> int:
    """``--duration``: 900 to 43200 seconds, and at most 3600 for role-chained credentials (AWS's rule)."""
    if not CONSOLE_DURATION_MIN <= seconds <= CONSOLE_DURATION_MAX:
        raise InvalidInputError(
            f"--duration {seconds} is outside the console's 900 to 43200 seconds", hint="e.g. --duration 3600"
        )
    if chained and seconds > CHAINING_CAP_SECONDS:
        raise InvalidInputError(
            f"--duration {seconds}: a role reached by role chaining gets at most a 1 hour console session",
            hint="ask for --duration 3600 or less (AWS refuses more for role-chained credentials)",
        )
    return seconds


def _opener(env: Mapping[str, str], url: str):  # type: ignore[no-untyped-def]
    import urllib.request
    from urllib.parse import urlsplit

    proxies: dict[str, str] = {}
    for scheme in ("http", "https"):
        value = env.get(f"{scheme}_proxy") or env.get(f"{scheme.upper()}_PROXY")
        if value:
            proxies[scheme] = value
    no_proxy = env.get("no_proxy") or env.get("NO_PROXY")
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if no_proxy and bypass(urlsplit(url).hostname or "", {"no": no_proxy}):
        proxies = {}
    # Never read os.environ behind the caller's back: only the proxies of ``env``.
    return urllib.request.build_opener(urllib.request.ProxyHandler(proxies))


def signin_token(
    endpoint: str,
    credentials: Credentials,
    env: Mapping[str, str],
    *,
    session_duration: int | None = None,
    timeout: float = 15.0,
) -> str:
    """Exchange temporary credentials for a sign-in token (``Action=getSigninToken``).

    Raises ``AwsError`` when the endpoint refuses (expired or revoked credentials, long-term keys), and
    ``NetworkError`` when it cannot be reached. Messages never hold the credentials or the token.
    """
    import urllib.error
    from urllib.parse import urlencode

    if not credentials.session_token:
        raise InvalidInputError(
            "the console needs temporary credentials (with a session token), not long-term keys",
            hint="this is a bug in the caller: get a federation token first",
        )
    session = json.dumps({"sessionId": credentials.access_key_id, "sessionKey": credentials.secret_access_key,
                          "sessionToken": credentials.session_token})  # fmt: skip
    query: dict[str, str] = {"Action": "getSigninToken"}
    if session_duration is not None:
        query["SessionDuration"] = str(session_duration)
    query["Session"] = session
    url = endpoint + ("&" if "?" in endpoint else "?") + urlencode(query)
    try:
        with _opener(env, endpoint).open(url, timeout=timeout) as response:
            body = response.read(64 * 1024)
    except urllib.error.HTTPError as error:
        status = error.code
        error.close()
        hint = (
            "the credentials have expired or were revoked: get fresh ones (rolecall assume --force-refresh) and retry"
            if status in (400, 401, 403)
            else "the federation endpoint failed on its side: try again in a moment"
        )
        if session_duration is not None and status == 400:
            hint += "; a role reached by role chaining (or a federation token) may not ask for --duration"
        raise AwsError(f"the federation endpoint {endpoint} refused to sign in (HTTP {status})", hint=hint) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise NetworkError(
            f"could not reach the federation endpoint {endpoint}: {reason}",
            hint=f"check the network (and {ENDPOINT_VARIABLE} / {ENDPOINT_KEY} if set)",
        ) from None
    try:
        token = json.loads(body.decode("utf-8"))["SigninToken"]
        if not isinstance(token, str) or not token:
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise AwsError(
            f"the federation endpoint {endpoint} answered without a SigninToken",
            hint=f"check that it really is a federation endpoint ({ENDPOINT_VARIABLE} / {ENDPOINT_KEY})",
        ) from None
    return token


def login_url(endpoint: str, token: str, destination: str, issuer: str = ISSUER) -> str:
    """The sign-in URL (``Action=login``): a secret, valid 15 minutes."""
    from urllib.parse import urlencode

    query = urlencode({"Action": "login", "Issuer": issuer, "Destination": destination, "SigninToken": token})
    return endpoint + ("&" if "?" in endpoint else "?") + query


def forward_page(url: str, folder: str) -> str:
    """Write a page that forwards the browser to ``url`` into ``folder`` (0700), readable by the owner only
    (0600), and return its path: the browser is given this path, so the secret URL is never in a command line
    that other local users can read (``ps``, ``/proc``)."""
    import secrets
    from html import escape

    from rolecall import fileio

    path = os.path.join(folder, f"signin-{secrets.token_hex(8)}.html")
    target = escape(url, quote=True)
    page = (
        "<!doctype html><html><head><meta charset=utf-8><meta name=referrer content=no-referrer>"
        f'<meta http-equiv="refresh" content="0;url={target}"><title>AWS console sign-in</title></head>'
        f'<body><script>location.replace({json.dumps(url)})</script><a href="{target}">Sign in</a></body></html>'
    )
    fileio.atomic_write(path, page.encode("utf-8"), mode=0o600, dir_mode=0o700)
    return path
