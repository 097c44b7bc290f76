"""``rolecall eks token --cluster-name C [--profile P] [--region R]`` and ``rolecall eks kubeconfig``.

``token`` prints the ExecCredential JSON kubectl's exec plugin reads, as ``aws eks get-token`` prints it, from a
cached token when one is still good (docs/eks.md; ``rolecall.eks``). A cached answer is the hot path: this
module imports nothing at load time, and ``cli/fastargs.py`` recognises the plain invocations so argparse is
not imported either. ``kubeconfig`` prints the kubeconfig ``users:`` entry that makes kubectl call it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context

#: ``--profile`` / ``--region`` / ``--endpoint-url`` when not named: the variables read, in order (the AWS CLI's).
PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``token`` and ``kubeconfig`` subcommands."""
    from rolecall.cli.commands._resolve_options import add_resolve_options

    commands = parser.add_subparsers(dest="eks_command", metavar="{token,kubeconfig}", required=True)
    token = commands.add_parser("token", help="print the ExecCredential JSON for kubectl (cached)")
    kubeconfig = commands.add_parser("kubeconfig", help="print the kubeconfig users: entry that calls rolecall")
    for sub in (token, kubeconfig):
        sub.add_argument("--cluster-name", required=True, metavar="C", help="the EKS cluster's name")
        sub.add_argument("--profile", metavar="PROFILE", help="the profile (default: $AWS_PROFILE, then 'default')")
    add_resolve_options(token, explain=False)
    kubeconfig.add_argument("--region", help="the region passed on to `eks token`")
    kubeconfig.add_argument("--user-name", help="the kubeconfig user's name (default: rolecall-CLUSTER)")


def cache_file(args: argparse.Namespace, ctx: Context) -> str:
    """The cache file for this request: the profile, cluster, region and endpoint as named or as the environment
    says (so the fast path and the full one agree without resolving anything)."""
    from rolecall import eks

    env = ctx.env
    profile = args.profile or next((env[name] for name in PROFILE_VARIABLES if env.get(name)), "default")
    region = args.region or next((env[name] for name in REGION_VARIABLES if env.get(name)), "")
    endpoint = args.endpoint_url or env.get("AWS_ENDPOINT_URL_STS") or env.get("AWS_ENDPOINT_URL") or ""
    return eks.cache_path(ctx.session.paths.rolecall_dir, profile, args.cluster_name, region, endpoint)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the token document (cached or new) or the kubeconfig entry."""
    if args.eks_command == "kubeconfig":
        from rolecall import eks

        name = args.user_name or f"rolecall-{args.cluster_name}"
        ctx.out(eks.kubeconfig_user(name, args.cluster_name, args.profile, args.region))
        return 0
    import time

    from rolecall import eks

    path = cache_file(args, ctx)
    document = None if args.force_refresh else eks.cached(path, time.time())
    if document is None:
        document = _new(args, ctx, path)
    ctx.out(document)
    return 0


def _new(args: argparse.Namespace, ctx: Context, path: str) -> str:
    from rolecall import eks
    from rolecall.cli.commands._resolve_options import chain_for
    from rolecall.timefmt import utc_now

    chain = chain_for(args, ctx)
    credentials = chain.provider.retrieve()
    settings = ctx.session.settings(chain.profile, region=args.region, endpoint_url=args.endpoint_url)
    document, good_until = eks.new_token(ctx.session.transport, settings, credentials, args.cluster_name, utc_now())
    eks.store(path, document, good_until)
    return document
