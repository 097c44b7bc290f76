"""``rolecall demo``: the whole workflow, step by step, against the local strict sandbox STS.

Nothing leaves 127.0.0.1 and no real AWS account is needed: the sandbox plays an AWS account with a user
``alice`` (long-term keys, a virtual MFA device) and roles with and without MFA. Every step prints the
command a person would type, what it printed, and what it shows. Secrets are shortened on screen.
"""

from __future__ import annotations

import io
import os

from rolecall.errors import RolecallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from rolecall.cli.context import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--keep: leave the throwaway folder for a look afterwards."""
    parser.add_argument("--keep", action="store_true", help="keep the throwaway folder with the files it wrote")


def _mask(text: str, secrets: list[str]) -> str:
    """Shorten every secret in ``text`` to its first 4 characters and a mark, as the AWS CLI masks keys."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, secret[:4] + "…(hidden)")
    return text


class _Demo:
    def __init__(self, ctx: Context, env: dict[str, str]) -> None:
        self.ctx = ctx
        self.env = env
        self.secrets: list[str] = []
        self.step_number = 0

    def step(self, title: str) -> None:
        self.step_number += 1
        self.ctx.out(f"\n== {self.step_number}. {title}\n")

    def note(self, text: str) -> None:
        self.ctx.out(f"   {text}\n")

    def run(self, argv: list[str], shown: str | None = None, env: dict[str, str] | None = None) -> str:
        """Run ``rolecall ARGV`` in-process with the demo's environment; print it and its output."""
        from rolecall.cli.context import Context
        from rolecall.cli.main import main

        self.ctx.out(f"$ {shown or 'rolecall ' + ' '.join(argv)}\n")
        out, err = io.StringIO(), io.StringIO()
        code = main(argv, Context(io.StringIO(), out, err, dict(env or self.env)))
        text = out.getvalue()
        self._learn_secrets(text)
        for line in (text + err.getvalue()).splitlines():
            self.ctx.out(_mask(line, self.secrets) + "\n")
        if code != 0:
            raise RolecallError(f"demo step failed: rolecall {' '.join(argv)} exited {code}")
        return text

    def _learn_secrets(self, text: str) -> None:
        import json

        if "SigninToken=" in text:  # a console sign-in URL: the token is the secret
            self.secrets.append(text.split("SigninToken=", 1)[1].split()[0].split("&")[0])
        try:
            data = json.loads(text)
        except ValueError:
            for line in text.splitlines():
                for name in ("AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN="):
                    if line.startswith("export " + name):
                        self.secrets.append(line.split("=", 1)[1].strip("'"))
            return
        credentials = data.get("Credentials", data) if isinstance(data, dict) else {}
        if isinstance(credentials, dict):
            self.secrets += [str(credentials.get(k, "")) for k in ("SecretAccessKey", "SessionToken")]


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Start the sandbox in this process and walk through the workflow."""
    from rolecall.extras import MissingExtraError, require

    try:
        require("sandbox")
    except MissingExtraError as error:
        error.hint = f"{error.hint}; in a clone of rolecall's repository: bash scripts/demo.sh"
        raise
    import shutil
    import tempfile

    from rolecall.sandbox import Sandbox

    folder = tempfile.mkdtemp(prefix="rolecall-demo-")
    try:
        with Sandbox.start() as sb:
            sb.reset()
            _walk(sb, folder, ctx)
    finally:
        if args.keep:
            ctx.out(f"\nThe files are in {folder}\n")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def _walk(sb: object, folder: str, ctx: Context) -> None:
    """The workflow, part by part, in a throwaway home under ``folder``."""
    box: Any = sb
    home = os.path.join(folder, "home")
    os.makedirs(home, mode=0o700)
    env = _demo_env(box, home, ctx)
    demo = _Demo(ctx, env)
    demo.secrets.append(box.secret_access_key)
    ctx.out(
        "rolecall demo: a local, strict STS on " + box.endpoint_url + " plays an AWS account "
        f"({box.account_id}) with a user alice, her virtual MFA device, and roles.\n"
        f"Files go to a throwaway folder: {home}/.aws\n"
    )
    _keys_part(demo, box)
    _raw_sts_part(demo, box)
    _profiles_part(demo, box)
    _export_part(demo, env)
    _sso_part(demo, box, env)
    _login_part(demo, box, env)
    from rolecall.cli.commands._demo_saml import saml_part

    saml_part(demo, box)
    demo.step("Check where you stand")
    demo.run(["list"])
    _console_part(demo, box)
    ctx.out(
        "\nDone. Against real AWS, the same commands work on your own ~/.aws files; see README.md.\n"
        f"STS calls the sandbox answered: {box.calls()}\n"
    )


def _demo_env(box: Any, home: str, ctx: Context) -> dict[str, str]:
    """The environment of every step: the caller's without AWS_/ROLECALL_ variables, files under ``home``, the
    sandbox as the endpoint."""
    env = {k: v for k, v in ctx.env.items() if not k.startswith(("AWS_", "ROLECALL_"))}
    env.update(
        HOME=home,
        AWS_CONFIG_FILE=os.path.join(home, ".aws", "config"),
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, ".aws", "credentials"),
        AWS_ENDPOINT_URL=box.endpoint_url,
        AWS_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        USER=env.get("USER") or "demo",
    )
    return env


def _keys_part(demo: _Demo, box: Any) -> None:
    """alice's keys and region in a profile, as ``aws configure set`` writes them."""
    demo.step("Put alice's access keys in a profile, as `aws configure set` does")
    demo.run(["configure", "set", "aws_access_key_id", box.access_key_id])
    demo.run(
        ["configure", "set", "aws_secret_access_key", box.secret_access_key],
        shown="rolecall configure set aws_secret_access_key ****",
    )
    demo.run(["configure", "set", "region", "us-east-1"])
    demo.run(["configure", "get", "region"])
    demo.note("The keys went to the credentials file (0600), the region to the config file: the AWS CLI's routing.")


def _raw_sts_part(demo: _Demo, box: Any) -> None:
    """The raw STS calls, as ``aws sts`` makes them: who am I, a role without MFA, one that needs it."""
    demo.step("Who am I? (sts get-caller-identity)")
    demo.run(["sts", "get-caller-identity"])

    demo.step("Assume a role without MFA (sts assume-role, exactly as `aws sts assume-role` prints it)")
    demo.run(["sts", "assume-role", "--role-arn", box.role_arn("readonly"), "--role-session-name", "demo-readonly"])

    demo.step("A role whose trust policy requires MFA: without a code AWS says no")
    try:
        demo.run(["sts", "assume-role", "--role-arn", box.role_arn("admin"), "--role-session-name", "demo-admin"])
    except RolecallError:
        demo.note("Refused, as real STS refuses it: the trust policy asks for aws:MultiFactorAuthPresent.")

    demo.step("The same role with MFA (the code your device would show; here `rolecall sandbox code`)")
    code = box.fresh_code()
    demo.run(
        ["sts", "assume-role", "--role-arn", box.role_arn("admin"), "--role-session-name", "demo-admin",
         "--serial-number", box.mfa_serial, "--token-code", code]
    )


def _profiles_part(demo: _Demo, box: Any) -> None:
    """Role profiles (a 3-hop chain, one with MFA), explained, assumed, served from the cache, MFA reuse."""
    demo.step("Profiles instead of ARNs: role_arn, source_profile, mfa_serial (configure set)")
    for name, role, extra in (
        ("readonly", "readonly", []),
        ("admin", "admin", [("mfa_serial", box.mfa_serial)]),
        ("ops", "ops", []),
        ("deploy", "deploy", []),
    ):
        source = {"ops": "deploy", "deploy": "readonly"}.get(name, "default")
        demo.run(["configure", "set", "role_arn", box.role_arn(role), "--profile", name])
        demo.run(["configure", "set", "source_profile", source, "--profile", name])
        for key, value in extra:
            demo.run(["configure", "set", key, value, "--profile", name])

    demo.step("Explain before doing: the plan for a 3-hop chain, no call made")
    demo.run(["assume", "ops", "--explain"])

    demo.step("Assume it: every hop cached in ~/.aws/cli/cache, where the AWS CLI and boto3 look too")
    demo.run(["assume", "ops"])
    demo.run(["assume", "ops"])
    demo.note("The second time nothing was sent to STS: served from the AWS CLI's own cache.")

    demo.step("MFA with the reuse strategy: one code (GetSessionToken), then roles need none")
    demo.run(["assume", "admin", "--token-code", box.fresh_code()])


def _export_part(demo: _Demo, env: dict[str, str]) -> None:
    """``eval "$(rolecall env readonly)"``, and what every tool in that shell then is."""
    demo.step("Export to the shell: eval \"$(rolecall env readonly)\"")
    exported = demo.run(["env", "readonly"])
    shell_env = dict(env)
    _apply_sh_exports(exported, shell_env)
    demo.note("After eval, every tool in the shell uses the role:")
    demo.run(["sts", "get-caller-identity"], env=shell_env)


def _console_part(demo: _Demo, box: Any) -> None:
    """The web console signed in as a role, through the sandbox's federation endpoint."""
    demo.step("The web console, signed in as a role: rolecall console readonly")
    demo.note("Against AWS this needs nothing more; here the sign-in goes to the sandbox's federation endpoint:")
    demo.run(["configure", "set", "console_federation_endpoint", box.federation_endpoint, "--profile", "readonly"])
    url = demo.run(["console", "readonly", "--print", "--service", "s3"], shown="rolecall console readonly --print"
                   " --service s3  (without --print it opens your browser)").strip()
    page = _fetch_console(url)
    demo.note(f"Opening that URL, the sandbox console says: {page}")


def _sso_part(demo: _Demo, box: Any, env: dict[str, str]) -> None:
    """IAM Identity Center: an sso-session, a login, SSO role credentials, a role chained from them, sso sync."""
    from urllib.parse import parse_qs, urlsplit

    from rolecall.config.parse import ConfigFiles
    from rolecall.config.paths import AwsPaths
    from rolecall.reporting import as_warnings
    from rolecall.sandbox.core import PARTNER_EXTERNAL_ID
    from rolecall.sso import api
    from rolecall.sso.login import LoginFlow
    from rolecall.sso.settings import login_for_session
    from rolecall.sso.tokens import SsoTokenCache

    demo.step("IAM Identity Center (SSO): an sso-session and a profile, as the AWS CLI v2 writes them")
    section = (
        f"\n[sso-session corp]\nsso_start_url = {box.sso_start_url}\nsso_region = {box.sso_region}\n"
        "sso_registration_scopes = sso:account:access\n\n"
        f"[profile corp-admin]\nsso_session = corp\nsso_account_id = {box.account_id}\n"
        "sso_role_name = AdministratorAccess\nregion = us-east-1\n\n"
        "[profile corp-partner]\nrole_arn = " + box.role_arn("partner") + "\nsource_profile = corp-admin\n"
        f"external_id = {PARTNER_EXTERNAL_ID}\n"
    )
    paths = AwsPaths.from_env(env)
    with open(paths.config_file, "a", encoding="utf-8") as handle:
        handle.write(section)
    demo.ctx.out("$ cat >> ~/.aws/config" + section.replace("\n", "\n   ") + "\n")

    demo.step("Log in: rolecall sso login --sso-session corp --use-device-code")
    demo.note("The sandbox shows a verification page (open it in a browser to click Allow); here the demo approves")
    demo.note("the code for you, as a person at that page would.")
    files = ConfigFiles.load(paths)  # after the append above; the steps' own commands read the files themselves
    login = login_for_session(files, "corp")

    def approve(url: str) -> None:
        box.sso_approve(parse_qs(urlsplit(url).query)["user_code"][0])

    flow = LoginFlow(
        login,
        api.settings_for(files, env, login, "sso-oidc"),
        SsoTokenCache(paths.sso_cache_dir, as_warnings(demo.ctx.say)),
        use_device_code=True,
        open_browser=approve,
        reporter=lambda line: demo.ctx.out(line + "\n"),
    )
    token = flow.run()
    demo.note(f"The token went to ~/.aws/sso/cache (0600), where `aws sso login` puts it; refreshable: "
              f"{'yes' if token.refresh_token else 'no'}.")

    demo.step("Use the SSO role, and a role assumed from it (one login serves the chain)")
    demo.run(["whoami", "corp-admin"])
    demo.run(["assume", "corp-partner"])

    demo.step("A profile for every account and role: sso sync (first a dry run)")
    demo.run(["sso", "sync", "--sso-session", "corp", "--diff"])
    demo.run(["sso", "sync", "--sso-session", "corp"])
    demo.run(["sso", "sync", "--sso-session", "corp"])
    demo.note("The second run changed nothing: the block is rolecall's, the rest of the file is untouched.")


def _login_part(demo: _Demo, box: Any, env: dict[str, str]) -> None:
    """Console credentials (`aws login`): a sign-in, the token file, a role whose source is the session."""
    import threading
    import urllib.request

    from rolecall.config.parse import ConfigFiles
    from rolecall.config.paths import AwsPaths
    from rolecall.login.flow import SignInFlow
    from rolecall.login.profile import write_login_session
    from rolecall.login.tokens import LoginTokenCache, cache_directory
    from rolecall.providers.login_session import signin_settings
    from rolecall.reporting import as_warnings

    demo.step("Console credentials, as aws login: rolecall login --profile console")
    demo.note("The browser signs in at AWS Sign-In (here the sandbox's, set to approve at once) and comes back to a")
    demo.note("127.0.0.1 port of rolecall's; the demo plays the browser.")
    box.signin.auto_approve = True

    def browse(url: str) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        threading.Thread(target=lambda: opener.open(url, timeout=30).read(), daemon=True).start()

    paths = AwsPaths.from_env(env)
    files = ConfigFiles.load(paths)
    flow = SignInFlow(signin_settings(env, None, files), login_command="rolecall login --profile console",
                      open_browser=browse, reporter=lambda line: demo.ctx.out(f"   {line}\n"))  # fmt: skip
    signed_in = flow.run()
    LoginTokenCache(cache_directory(env), as_warnings(demo.ctx.say)).save(signed_in.login_session, signed_in.document)
    write_login_session(paths.config_file, "console", signed_in.login_session, "us-east-1")
    demo.note(f"login_session = {signed_in.login_session} went to [profile console]; the token to")
    demo.note("~/.aws/login/cache/<sha256>.json (0600), as the AWS CLI v2 writes it. rolecall renews it by itself.")
    demo.step("A role whose source is the console session: rolecall env console-readonly")
    demo.run(["configure", "set", "role_arn", f"arn:aws:iam::{box.account_id}:role/readonly", "--profile",
              "console-readonly"])  # fmt: skip
    demo.run(["configure", "set", "source_profile", "console", "--profile", "console-readonly"])
    demo.run(["env", "console-readonly", "--format", "sh"])


def _fetch_console(url: str) -> str:
    """Follow the sign-in URL as a browser does (redirect, cookie) and return who the console says is signed in."""
    import http.cookiejar
    import re
    import urllib.request

    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(url, timeout=30) as response:
        page = response.read().decode("utf-8")
    found = re.search(r'<h1 id="who">([^<]*)</h1>', page)
    return f"signed in as {found.group(1)}" if found else "no one is signed in"


def _apply_sh_exports(text: str, env: dict[str, str]) -> None:
    """Apply `export NAME='value'` / `unset NAME` lines to ``env`` as a POSIX shell would (single quotes only)."""
    for line in text.splitlines():
        if line.startswith("unset "):
            env.pop(line[6:].strip(), None)
        elif line.startswith("export ") and "=" in line:
            name, _, value = line[7:].partition("=")
            if value.startswith("'") and value.endswith("'"):
                value = value[1:-1].replace("'\\''", "'")
            env[name] = value
