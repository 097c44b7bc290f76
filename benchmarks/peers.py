"""What the benchmarks that time rolecall next to its peers share: the peers' venv, a PATH, the AWS files of a home.

Used by ``peers_everyday.py`` (the tasks typed into a real shell) and ``compare.py`` (the same operations as plain
processes, side by side). The peers come from PyPI into a private venv (``.venv-peers/`` at the repo root,
git-ignored, reused on the next run): ``awsume`` 4.5.x and ``awscli`` 1.x.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rolecall.sandbox import Sandbox, SandboxUser

ROOT = Path(__file__).resolve().parents[1]
PEERS = {"awsume": ("awsume>=4.5,<4.6", "4.5."), "awscli": ("awscli<2", "1.")}
DEFAULT_VENV = ROOT / ".venv-peers"


def peer_tools(venv: Path) -> dict[str, str]:
    """Versions of awsume and awscli in ``venv``, creating it and installing them from PyPI when missing."""
    python = venv / "bin" / "python"
    versions = _versions(python)
    if versions is None:
        print(f"installing {' and '.join(spec for spec, _ in PEERS.values())} into {venv} ...", file=sys.stderr)
        # The awsume sdist's setup.py appends an alias to the rc files of HOME: give it a throwaway one.
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, HOME=home)
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, env=env)
            subprocess.run([str(python), "-m", "pip", "install", "-q", *(spec for spec, _ in PEERS.values())],
                           check=True, env=env)  # fmt: skip
        versions = _versions(python)
        if versions is None:
            raise SystemExit(f"{venv}: awsume 4.5.x and awscli 1.x did not install")
    return versions


def _versions(python: Path) -> dict[str, str] | None:
    if not python.exists():
        return None
    code = "import importlib.metadata as m, sys; print(*(m.version(n) for n in sys.argv[1:]))"
    done = subprocess.run([str(python), "-c", code, *PEERS], capture_output=True, text=True)
    found = dict(zip(PEERS, done.stdout.split(), strict=False)) if done.returncode == 0 else {}
    ok = len(found) == len(PEERS) and all(found[name].startswith(PEERS[name][1]) for name in PEERS)
    return found if ok else None


def bin_dir(parent: str, venv: Path) -> str:
    """A folder with just the commands the tools need: rolecall (this tree's), aws and awsume (the peers')."""
    folder = os.path.join(parent, "bin")
    os.makedirs(folder)
    rolecall = Path(sys.executable).parent / "rolecall"
    found = str(rolecall) if rolecall.exists() else shutil.which("rolecall")
    if found is None:
        raise SystemExit("rolecall is not installed next to this Python: pip install -e '.[dev]'")
    links = {"rolecall": found, **{name: str(venv / "bin" / name) for name in ("aws", "awsume", "awsumepy")}}
    for name, target in links.items():
        os.symlink(target, os.path.join(folder, name))
    return folder


def aws_files(sb: Sandbox, user: SandboxUser, home: str) -> None:
    """``HOME/.aws/config`` and ``credentials`` for ``user`` against the sandbox (0600, as the AWS CLI writes them).

    The profiles: ``default`` (the user's keys), ``admin`` and ``billing`` (roles whose trust requires MFA, with
    ``mfa_serial``), and the 3-hop chain default -> ``readonly`` -> ``deploy`` -> ``ops``; each carries the region and
    ``endpoint_url`` (the sandbox), which botocore, and so all three tools, honour.
    """
    from rolecall.sandbox.awsfiles import write_private

    where = {"region": sb.region, "endpoint_url": sb.endpoint_url}
    profiles: dict[str, dict[str, str]] = {
        "default": {},
        "profile admin": {"role_arn": sb.role_arn("admin"), "source_profile": "default",
                          "mfa_serial": str(user.mfa_serial)},
        "profile billing": {"role_arn": sb.role_arn("billing"), "source_profile": "default",
                            "mfa_serial": str(user.mfa_serial)},
        "profile readonly": {"role_arn": sb.role_arn("readonly"), "source_profile": "default"},
        "profile deploy": {"role_arn": sb.role_arn("deploy"), "source_profile": "readonly"},
        "profile ops": {"role_arn": sb.role_arn("ops"), "source_profile": "deploy"},
    }  # fmt: skip
    text = "".join(
        f"[{name}]\n" + "".join(f"{key} = {value}\n" for key, value in {**values, **where}.items()) + "\n"
        for name, values in profiles.items()
    )
    folder = os.path.join(home, ".aws")
    os.makedirs(folder, mode=0o700)
    write_private(os.path.join(folder, "config"), text)
    keys = f"[default]\naws_access_key_id = {user.access_key_id}\naws_secret_access_key = {user.secret_access_key}\n"
    write_private(os.path.join(folder, "credentials"), keys)


def base_env(home: str, path: str) -> dict[str, str]:
    """The whole environment of a tool run in ``home``: nothing of the caller's (no AWS_* or ROLECALL_* variable)."""
    return {"HOME": home, "PATH": path, "TERM": "xterm", "LANG": "C.UTF-8",
            "USER": os.environ.get("USER", "bench"), "TMPDIR": home}  # fmt: skip
