"""A core-only install (``pip install rolecall``: botocore and nothing else) says what to install, never "internal
error", when a command needs an optional extra.

The core-only install is real: a Python started with ``-I -S`` (no site-packages, no PYTHONPATH) whose path holds
only the standard library, rolecall's source and links to the packages the core requires (botocore and what it
requires, found from the installed distributions' metadata). moto, pyotp, keyring and cryptography are then
really absent, and every import of them really fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import rolecall
from conftest import AwsHome
from rolecall.extras import EXTRAS, install_hint

SOURCE = Path(rolecall.__file__).resolve().parents[1]


def _requirement_names(distribution: str) -> list[str]:
    """The distributions ``distribution`` requires, without those of its extras."""
    names = []
    for requirement in metadata.requires(distribution) or []:
        if "extra ==" not in requirement:
            match = re.match(r"[A-Za-z0-9._-]+", requirement)
            assert match is not None, requirement
            names.append(match.group(0))
    return names


def _core_closure() -> set[str]:
    """rolecall's required distributions and theirs, recursively."""
    seen: set[str] = set()
    todo = _requirement_names("rolecall")
    while todo:
        name = todo.pop()
        if name.lower() not in seen:
            seen.add(name.lower())
            todo += _requirement_names(name)
    return seen


@pytest.fixture(scope="module")
def core_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with links to the top-level modules of the core's distributions, and nothing else."""
    folder = tmp_path_factory.mktemp("core-site")
    for name in _core_closure():
        distribution = metadata.distribution(name)
        for file in distribution.files or []:
            top = file.parts[0]
            if top.endswith((".dist-info", ".pth")) or top in ("..", "__pycache__") or (folder / top).exists():
                continue
            target = Path(str(distribution.locate_file(top)))
            if target.exists():
                (folder / top).symlink_to(target)
    assert (folder / "botocore").exists()
    assert not any((folder / module).exists() for extra in EXTRAS.values() for module in extra.imports)
    return folder


def run_core(core_only: Path, env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``rolecall ARGS`` in the core-only Python."""
    code = (
        "import sys; sys.path += sys.argv[1:3]; sys.argv = ['rolecall', *sys.argv[3:]]; "
        "from rolecall.cli.main import entry_point; entry_point()"
    )
    return subprocess.run([sys.executable, "-I", "-S", "-c", code, str(SOURCE), str(core_only), *args], env=env,
                          input=stdin, capture_output=True, text=True, timeout=120)  # fmt: skip


def test_the_core_only_python_really_lacks_the_extras(core_only: Path, aws_home: AwsHome) -> None:
    probe = "import sys; sys.path += sys.argv[1:]; import botocore, rolecall.cli.main; import moto"
    done = subprocess.run([sys.executable, "-I", "-S", "-c", probe, str(SOURCE), str(core_only)], env=aws_home.env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "ModuleNotFoundError: No module named 'moto'" in done.stderr


def test_the_core_works_without_the_extras(core_only: Path, aws_home: AwsHome) -> None:
    aws_home.write_credentials("[ci]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = abc\n")
    done = run_core(core_only, aws_home.env, "env", "ci", "--format", "sh")
    assert done.returncode == 0, done.stderr
    assert "export AWS_ACCESS_KEY_ID='AKIAIOSFODNN7EXAMPLE'" in done.stdout


def _one_line(done: subprocess.CompletedProcess[str], extra: str) -> str:
    assert done.returncode == 3, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("rolecall: ")
    assert f"pip install 'rolecall[{extra}]'" in lines[0]
    requirements = " ".join(f"'{r}'" for r in EXTRAS[extra].requirements)
    assert f"pipx inject rolecall {requirements}" in lines[0]
    return lines[0]


@pytest.mark.parametrize("args", [["demo"], ["sandbox"], ["sandbox", "code"]])
def test_sandbox_commands_say_what_to_install(core_only: Path, aws_home: AwsHome, args: list[str]) -> None:
    line = _one_line(run_core(core_only, aws_home.env, *args), "sandbox")
    assert "moto and pyotp" in line and "(moto is not installed)" in line
    if args == ["demo"]:
        assert "bash scripts/demo.sh" in line


def test_keys_commands_say_what_to_install(core_only: Path, aws_home: AwsHome) -> None:
    # The keychain backend (the default) needs keyring.
    line = _one_line(run_core(core_only, aws_home.env, "keys", "list"), "keys")
    assert "keyring library is not installed" in line
    # The encrypted file needs cryptography: the import fails deep inside the store, the line is the same kind.
    file_env = dict(aws_home.env, ROLECALL_KEYS_BACKEND="file", ROLECALL_KEYS_PASSPHRASE="correct horse")
    key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    line = _one_line(run_core(core_only, file_env, "keys", "add", "ci", stdin=key), "keys")
    assert "(cryptography is not installed)" in line
    aws_home.write_config("[profile ci]\ncredential_process = rolecall credential-process --keys ci\n")
    line = _one_line(run_core(core_only, file_env, "credential-process", "--keys", "ci"), "keys")
    assert "key store" in line


def test_debug_still_shows_the_import_error(core_only: Path, aws_home: AwsHome) -> None:
    done = run_core(core_only, dict(aws_home.env, ROLECALL_KEYS_BACKEND="file"), "--debug", "keys", "add", "x",
                    stdin="AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")  # fmt: skip
    assert "ModuleNotFoundError: No module named 'cryptography'" in done.stderr
    assert done.stderr.splitlines()[-1].startswith("rolecall: the key store")


def test_the_extras_table_matches_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((SOURCE.parent / "pyproject.toml").read_text())["project"]
    declared = project["optional-dependencies"]
    for name, extra in EXTRAS.items():
        assert list(extra.requirements) == declared[name], name
        assert install_hint(name).startswith(f"pip install 'rolecall[{name}]'")
