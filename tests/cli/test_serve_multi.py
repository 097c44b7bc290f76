"""``rolecall serve A B`` (issue 19 item 1): one server, one token, each profile at its own secret path; real boto3
and the real AWS CLI resolve both profiles, on the host and inside a container-like network namespace that
reaches the server only through a Unix socket (``unshare -rn``: no network but its own loopback); the socket's
folder and file are private, a planted link is refused; every interface is refused without the explicit flag."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta

import pytest

from conftest import AwsHome
from rolecall.credentials import Credentials
from rolecall.refresh import RefreshingCredentials
from rolecall.sandbox import Sandbox
from rolecall.server import CredentialsServer
from rolecall.serverbind import ServerAddressError, UnixSocketError
from rolecall.timefmt import utc_now
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

RELAY = os.path.join(os.path.dirname(__file__), "serve_ns_relay.py")
CLIENTS = (
    f"{sys.executable} -c \"import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])\"\n"
    f"{sys.executable} -m awscli sts get-caller-identity --query Arn --output text\n"
)


def _serve(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``rolecall serve ARGS``; the process and everything it printed up to its last ROLECALL_PROFILE."""
    process = subprocess.Popen([sys.executable, "-m", "rolecall", "serve", *args], env=env, text=True,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    wanted = len([arg for arg in args if arg in ("readonly", "deploy")])
    lines: list[str] = []
    while sum("ROLECALL_PROFILE" in line for line in lines) < wanted:
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"serve exited {process.wait()}: {process.stderr.read()}")
        lines.append(line)
    return process, "".join(lines)


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert process.stderr is not None
    stderr = process.stderr.read()
    assert "Traceback" not in stderr
    return stderr


def _blocks(exports: str) -> dict[str, str]:
    """The block of lines printed for each profile, by name."""
    blocks: dict[str, str] = {}
    name = ""
    for line in exports.splitlines(keepends=True):
        if line.startswith("# profile "):
            name = line.split()[2]
            blocks[name] = ""
        else:
            blocks[name] += line
    return blocks


def _script(blocks: dict[str, str]) -> str:
    """bash that evaluates each profile's block in a subshell and runs boto3 and the AWS CLI there."""
    return "".join(f"( eval \"${{BLOCK_{n}}}\"\n{CLIENTS})\n" for n in range(len(blocks)))


def _block_env(blocks: dict[str, str]) -> dict[str, str]:
    return {f"BLOCK_{n}": block for n, block in enumerate(blocks.values())}


def _check_arns(output: str, sandbox: Sandbox) -> None:  # noqa: F811
    arns = output.split()
    prefix = f"arn:aws:sts::{sandbox.account_id}:assumed-role/"
    assert [arn.removeprefix(prefix).split("/")[0] for arn in arns] == ["readonly"] * 2 + ["deploy"] * 2, arns


def test_one_server_one_token_serves_two_profiles_to_boto3_and_the_aws_cli(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    process, exports = _serve(env, "readonly", "deploy")
    try:
        blocks = _blocks(exports)
        assert list(blocks) == ["readonly", "deploy"]
        urls = {name: next(line for line in block.splitlines() if "FULL_URI" in line) for name, block in blocks.items()}
        tokens = {line for block in blocks.values() for line in block.splitlines()
                  if line.startswith("export AWS_CONTAINER_AUTHORIZATION_TOKEN=")}  # fmt: skip
        assert all("unset AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" in block for block in blocks.values())
        assert len(tokens) == 1  # one token
        assert len({urllib.parse.urlsplit(url.split("'")[1]).netloc for url in urls.values()}) == 1  # one port
        assert urls["readonly"] != urls["deploy"]  # a secret path each
        used = subprocess.run(["bash", "--norc", "-c", _script(blocks)], env={**env, **_block_env(blocks)},
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert used.returncode == 0, used.stderr
        _check_arns(used.stdout, sandbox)
        assert sandbox.calls("AssumeRole") == 2  # readonly, then deploy from readonly: resolved once, then served
    finally:
        stderr = _stop(process)
    assert "stopped serving readonly, deploy" in stderr


@contextlib.contextmanager
def _unix_bridge(path: str, port: int) -> Iterator[None]:
    """The host side of the container's network: a Unix socket at ``path`` forwarding to 127.0.0.1:``port``."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)

    def pipe(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                upstream = socket.create_connection(("127.0.0.1", port))
                for pair in ((client, upstream), (upstream, client)):
                    threading.Thread(target=pipe, args=pair, daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield
    finally:
        listener.close()


def _unshare_works() -> bool:
    try:
        return subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _unshare_works() or not shutil.which("ip"), reason="no user and network namespaces")
def test_two_profiles_reach_a_network_namespace_through_a_mounted_unix_socket(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    """The container-like case: inside ``unshare -rn`` there is no route to the host's 127.0.0.1; the only way
    out is the socket files (what ``docker run -v`` mounts). A relay there (socat in a real container) serves
    127.0.0.1:9911 from rolecall's socket, and the sandbox STS from a second socket."""
    env = seeded_env(sandbox, aws_home)
    folder = tempfile.mkdtemp(prefix="rc-ns-", dir="/tmp")
    try:
        creds_socket = os.path.join(folder, "run", "creds.sock")
        sts_port = urllib.parse.urlsplit(env["AWS_ENDPOINT_URL"]).port
        assert sts_port is not None
        process, exports = _serve(env, "readonly", "deploy", "--unix-socket", creds_socket)
        try:
            assert stat.S_IMODE(os.lstat(creds_socket).st_mode) == 0o600
            assert stat.S_IMODE(os.lstat(os.path.dirname(creds_socket)).st_mode) == 0o700
            blocks = _blocks(exports)
            assert all("http://127.0.0.1:9911/" in block for block in blocks.values())
            sts_socket = os.path.join(folder, "sts.sock")
            with _unix_bridge(sts_socket, sts_port):
                inside = ["unshare", "-rn", sys.executable, RELAY, f"9911={creds_socket}", f"{sts_port}={sts_socket}",
                          "--", "bash", "--norc", "-c", _script(blocks)]  # fmt: skip
                used = subprocess.run(inside, env={**env, **_block_env(blocks)}, capture_output=True, text=True,
                                      timeout=180)  # fmt: skip
            assert used.returncode == 0, used.stderr
            _check_arns(used.stdout, sandbox)
            # Without the relay, the namespace has no way to the server at all.
            direct = subprocess.run(["unshare", "-rn", sys.executable, "-c", CLIENTS.splitlines()[0].split(" -c ")[1]
                                     .strip('"')], env={**env, **_block_env(blocks)}, capture_output=True, text=True,
                                    timeout=60)  # fmt: skip
            assert direct.returncode != 0
        finally:
            stderr = _stop(process)
        assert "socat TCP-LISTEN:9911" in stderr and "docker run -v" in stderr
        assert not os.path.exists(creds_socket)  # removed on stop
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _static() -> RefreshingCredentials:
    credentials = Credentials("ASIAUNIX", "secret", "token", utc_now() + timedelta(hours=1), "123456789012")
    return RefreshingCredentials(lambda: credentials)


def _unix_get(path: str, url_path: str, host: str, token: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("localhost", timeout=5)
    conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.sock.connect(path)
    conn.putrequest("GET", url_path, skip_host=True)
    conn.putheader("Host", host)
    conn.putheader("Authorization", token)
    conn.endheaders()
    response = conn.getresponse()
    try:
        return response.status, response.read()
    finally:
        conn.close()


def test_unix_socket_is_private_checks_host_and_token_and_refuses_planted_links(tmp_path: os.PathLike[str]) -> None:
    base = tempfile.mkdtemp(prefix="rc-us-", dir="/tmp")
    try:
        path = os.path.join(base, "run", "c.sock")
        with CredentialsServer({"a": _static(), "b": _static()}, unix_socket=path) as server:
            ok, body = _unix_get(path, server.path_of("b"), "127.0.0.1:9911", server.token)
            assert ok == 200 and json.loads(body)["AccessKeyId"] == "ASIAUNIX"
            assert _unix_get(path, server.path_of("a"), "evil.example:9911", server.token)[0] == 403  # rebinding
            assert _unix_get(path, server.path_of("a"), "127.0.0.1:9911", "wrong")[0] == 403
            assert _unix_get(path, "/nothing", "localhost:9911", server.token)[0] == 404
            # A second server on the same path is refused, not replacing the live one.
            with pytest.raises(UnixSocketError, match="another server"):
                CredentialsServer(_static(), unix_socket=path).start()
        assert not os.path.exists(path)
        # A link planted at the socket path, a link in place of the folder, a folder open to others: refused.
        os.symlink("/tmp/elsewhere", path)
        with pytest.raises(UnixSocketError, match="not a socket of yours"):
            CredentialsServer(_static(), unix_socket=path).start()
        os.symlink(os.path.join(base, "run"), os.path.join(base, "linked"))
        with pytest.raises(UnixSocketError, match="not a folder"):
            CredentialsServer(_static(), unix_socket=os.path.join(base, "linked", "c.sock")).start()
        open_folder = os.path.join(base, "open")
        os.mkdir(open_folder, 0o755)
        os.chmod(open_folder, 0o755)
        with pytest.raises(UnixSocketError, match="open to other users"):
            CredentialsServer(_static(), unix_socket=os.path.join(open_folder, "c.sock")).start()
        assert os.path.islink(path)  # left alone
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("address", ["0.0.0.0", "::"])
def test_every_interface_is_refused_without_the_explicit_flag(
    sandbox: Sandbox, aws_home: AwsHome, address: str  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    result = subprocess.run([sys.executable, "-m", "rolecall", "serve", "readonly", "--bind", address], env=env,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 8, result.stderr  # invalid input (docs/exit-codes.md)
    assert sandbox.calls("AssumeRole") == 0  # refused before anything is resolved
    assert result.stdout == ""
    assert "every interface" in result.stderr and "--allow-any-address" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 2


def test_address_policy() -> None:
    with pytest.raises(ServerAddressError):
        CredentialsServer(_static(), host="0.0.0.0", exposed=True)
    with pytest.raises(ServerAddressError):
        CredentialsServer(_static(), host="172.17.0.1")  # not without --bind
    with pytest.raises(ServerAddressError):
        CredentialsServer(_static(), host="docker.host", exposed=True)  # a name is not an address
    CredentialsServer(_static(), host="172.17.0.1", exposed=True)  # allowed (not started: may not exist here)
    CredentialsServer(_static(), host="0.0.0.0", exposed=True, any_interface=True)


def test_a_non_default_bind_address_keeps_the_host_check() -> None:
    """127.0.0.2 stands in for a bridge address (the test may only use loopback): its own Host is accepted,
    a rebound name and another port are refused."""
    with CredentialsServer({"a": _static()}, host="127.0.0.2", exposed=True) as server:
        assert server.url_of("a").startswith(f"http://127.0.0.2:{server.port}/")
        for host, status in ((f"127.0.0.2:{server.port}", 200), (f"evil.example:{server.port}", 403),
                             ("127.0.0.2:1", 403)):  # fmt: skip
            conn = http.client.HTTPConnection("127.0.0.2", server.port, timeout=5)
            conn.putrequest("GET", server.path, skip_host=True)
            conn.putheader("Host", host)
            conn.putheader("Authorization", server.token)
            conn.endheaders()
            assert conn.getresponse().status == status, host
            conn.close()
