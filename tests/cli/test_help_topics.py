"""Help and docs: ``rolecall help [TOPIC]`` prints the packaged pages, the --help texts say what people look for,
the sandbox lets ``console`` work for profiles a user adds, and progress lines carry no ``rolecall:`` prefix.

The pages are the repository's docs/*.md, shipped in the package through the ``src/rolecall/docs`` link; a copy of
the package with the link followed (what a wheel holds) is run with no repository around it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rolecall
from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture
from test_keys_store import keys_env
from test_sandbox_command import start, stop

PACKAGE = Path(rolecall.__file__).resolve().parent
REPO = PACKAGE.parents[1]
DOCS = REPO / "docs"
PAGES = sorted(path.stem for path in DOCS.glob("*.md"))


def test_the_package_ships_the_docs_folder_itself() -> None:
    link = REPO / "src" / "rolecall" / "docs"
    assert link.is_symlink() and link.resolve() == DOCS.resolve()  # one copy of the text: docs/
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "docs/*.md" in project["tool"]["setuptools"]["package-data"]["rolecall"]
    assert len(PAGES) >= 15 and "exit-codes" in PAGES


def test_help_lists_every_page_and_prints_each_one(aws_home: AwsHome) -> None:
    listing = run_rolecall(["help"], aws_home.env)
    assert listing.returncode == 0
    listed = re.findall(r"^  (\S+)  ", listing.stdout.split("help topics")[1], re.MULTILINE)
    assert listed == PAGES
    for page in PAGES:
        done = run_rolecall(["help", page], aws_home.env)
        assert done.returncode == 0 and done.stdout == (DOCS / f"{page}.md").read_text(), page


def test_help_of_a_command_and_of_nothing_known(aws_home: AwsHome) -> None:
    assert run_rolecall(["help", "exec"], aws_home.env).stdout == run_rolecall(["exec", "--help"], aws_home.env).stdout
    done = run_rolecall(["help", "exit-code"], aws_home.env)
    assert done.returncode == 2
    assert done.stderr == "rolecall: no help topic 'exit-code' (hint: did you mean 'exit-codes'?)\n"


def test_top_help_points_to_the_packaged_page(aws_home: AwsHome) -> None:
    text = run_rolecall(["--help"], aws_home.env).stdout
    assert "rolecall help exit-codes" in text and "docs/exit-codes.md" not in text
    assert re.search(r"^  help +Show a documentation page", text, re.MULTILINE)


def test_an_installed_copy_without_the_repository_has_the_pages(tmp_path: Path, aws_home: AwsHome) -> None:
    """As a wheel installs it: the package folder alone, the docs link followed into real files."""
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "rolecall", symlinks=False, ignore=shutil.ignore_patterns("__pycache__"))
    assert not (site / "rolecall" / "docs").is_symlink()
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from rolecall.cli.main import main; sys.exit(main(sys.argv[2:]))"
    )
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(site), "help", "exit-codes"], cwd=tmp_path,
                          env=aws_home.env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == (DOCS / "exit-codes.md").read_text()


# --- the --help texts ---------------------------------------------------------------------------------------------


def test_shell_init_help_shows_the_start_up_line_of_each_shell(aws_home: AwsHome) -> None:
    text = run_rolecall(["shell-init", "--help"], aws_home.env).stdout
    shells_page = (DOCS / "shells.md").read_text()
    lines = ['eval "$(rolecall shell-init bash)"', 'eval "$(rolecall shell-init zsh)"']
    lines.append("rolecall shell-init fish | source")
    for line in [*lines, "rolecall shell-init pwsh | Out-String | Invoke-Expression"]:
        assert line in text
        assert line.replace("|", "\\|") in shells_page or line in shells_page  # the same line as the docs' table
    assert "~/.bashrc" in text and "~/.zshrc (after compinit)" in text and "config.fish" in text


def test_configure_help_says_bare_configure_asks_the_four_questions(aws_home: AwsHome) -> None:
    text = " ".join(run_rolecall(["configure", "--help"], aws_home.env).stdout.split())
    assert "[ACTION ...]" in text
    assert "Without an ACTION, `rolecall configure [--profile PROFILE]` asks the AWS CLI's four questions" in text


def test_sso_logout_help_and_the_readme_agree(aws_home: AwsHome) -> None:
    text = " ".join(run_rolecall(["sso", "logout", "--help"], aws_home.env).stdout.split())
    readme = (REPO / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `rolecall sso logout"))
    # Both: without an option every login goes, as aws sso logout; with one, that login only.
    assert "every cached login without an option (as aws sso logout)" in text
    assert "default: every cached login" in text and "$AWS_PROFILE" not in text
    assert "all of them without an option, as `aws sso logout`" in row


# --- what commands print --------------------------------------------------------------------------------------------


def test_keys_import_and_rotate_progress_lines_have_no_error_prefix(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home, base=keys_env(aws_home, "file"))
    for args in (["keys", "import", "default"], ["keys", "rotate", "default"], ["keys", "import", "--confirm"]):
        done = run_rolecall(args, env)
        assert done.returncode == 0, done.stderr
        lines = [line for line in done.stderr.splitlines() if not line.startswith("rolecall: warning: ")]
        assert lines and not any(line.startswith("rolecall:") for line in lines), (args, lines)


def test_the_sandbox_exports_the_federation_endpoint_for_added_profiles(aws_home: AwsHome, tmp_path: Path) -> None:
    process, exports = start(aws_home.env, "--dir", str(tmp_path / "sb"))
    try:
        endpoint = exports["ROLECALL_FEDERATION_ENDPOINT"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/federation", endpoint)
        env = {**aws_home.env, **exports}
        # A profile the user adds, without console_federation_endpoint: it signs in through the sandbox all the same.
        role = "arn:aws:iam::123456789012:role/readonly"
        for key, value in (("role_arn", role), ("source_profile", "default")):
            assert run_rolecall(["configure", "set", f"profile.mine.{key}", value], env).returncode == 0
        done = run_rolecall(["console", "mine", "--print"], env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(endpoint + "?Action=login")
    finally:
        code, err = stop(process)
    assert code == 0
    assert "exported above as ROLECALL_FEDERATION_ENDPOINT, so profiles you add sign in there too" in err


def test_the_licence_is_declared_the_current_way() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    assert all((REPO / name).is_file() for name in project["project"]["license-files"])
    assert project["build-system"]["requires"] == ["setuptools>=77"]
