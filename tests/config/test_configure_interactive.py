"""Interactive ``rolecall configure`` and ``configure import --csv`` (docs/configure.md).

The interactive prompts are driven in a real terminal (pexpect) against rolecall and against the real
``aws configure`` (AWS CLI v1) in a second home; the files must read the same for botocore and the prompts
must be the same text. Piped stdin is compared the same way. The AWS CLI v1 has no ``configure import``:
its results are checked against what the AWS CLI v2 documents (profile = User Name, the two keys).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest
from botocore.configloader import load_config, raw_config_parse

from conftest import AwsHome, run_aws, run_rolecall

KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
NEW_SECRET = "newSecretNEWSECRETnewsecret0123456789ABC"


def _second_home(tmp_path: Path, env: dict[str, str], name: str) -> dict[str, str]:
    home = tmp_path / name
    (home / ".aws").mkdir(parents=True)
    return env | {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "ROLECALL_HOME": str(home / ".aws" / "rolecall"),
    }


def _seed(env: dict[str, str]) -> None:
    Path(env["AWS_CONFIG_FILE"]).write_text("# my config\n[profile dev]\nregion = us-east-1\n")
    creds = Path(env["AWS_SHARED_CREDENTIALS_FILE"])
    creds.write_text(f"# my keys\n[dev]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
    os.chmod(creds, 0o600)


def _view(env: dict[str, str]) -> tuple[Any, Any]:
    return load_config(env["AWS_CONFIG_FILE"])["profiles"], raw_config_parse(env["AWS_SHARED_CREDENTIALS_FILE"])


def _drive(argv: list[str], env: dict[str, str]) -> list[str]:
    """Answer the four prompts in a terminal: keep the key, new secret, keep region, output json."""
    child = pexpect.spawn(sys.executable, argv, env=env, encoding="utf-8", timeout=30, dimensions=(24, 200))
    seen = []
    for prompt, answer in (
        (r"AWS Access Key ID \[\*{16}MPLE\]: ", ""),
        (r"AWS Secret Access Key \[\*{16}EKEY\]: ", NEW_SECRET),
        (r"Default region name \[us-east-1\]: ", ""),
        (r"Default output format \[None\]: ", "json"),
    ):
        child.expect(prompt)
        seen.append(child.after)
        child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return seen


def test_terminal_prompts_and_files_match_aws_cli(tmp_path: Path, isolated_env: AwsHome) -> None:
    ours = _second_home(tmp_path, isolated_env.env, "ours")
    theirs = _second_home(tmp_path, isolated_env.env, "theirs")
    _seed(ours)
    _seed(theirs)
    our_prompts = _drive(["-m", "rolecall", "configure", "--profile", "dev"], ours)
    aws_prompts = _drive(["-m", "awscli", "configure", "--profile", "dev"], theirs)
    assert our_prompts == aws_prompts
    assert _view(ours) == _view(theirs)
    assert _view(ours)[1]["dev"]["aws_secret_access_key"] == NEW_SECRET
    # Comments stay (the AWS CLI keeps them too); the credentials file stays 0600.
    assert Path(ours["AWS_SHARED_CREDENTIALS_FILE"]).read_text().startswith("# my keys\n")
    assert Path(ours["AWS_CONFIG_FILE"]).read_text().startswith("# my config\n")
    assert os.stat(ours["AWS_SHARED_CREDENTIALS_FILE"]).st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "stdin",
    [
        f"{KEY}\n{SECRET}\nus-west-2\ntext\n",
        "\n\neu-west-1\n\n",
        "\n\n\n\n",
        "  \n x \n\n\n",
        "\n\n",  # input ends early: nothing is written
    ],
)
def test_piped_stdin_like_aws_cli(stdin: str, tmp_path: Path, isolated_env: AwsHome) -> None:
    ours = _second_home(tmp_path, isolated_env.env, "ours")
    theirs = _second_home(tmp_path, isolated_env.env, "theirs")
    for env in (ours, theirs):
        Path(env["AWS_CONFIG_FILE"]).write_text("[profile dev]\nregion = us-east-1\n")
    mine = run_rolecall(["configure", "--profile", "dev"], env=ours, input=stdin)
    aws = run_aws(["configure", "--profile", "dev"], env=theirs, input=stdin)
    assert mine.stdout == aws.stdout  # the prompts go to stdout, as the AWS CLI's do
    assert (mine.returncode == 0) == (aws.returncode == 0)
    if mine.returncode:
        assert mine.returncode == 8 and len(mine.stderr.splitlines()) == 1
    ours_creds = Path(ours["AWS_SHARED_CREDENTIALS_FILE"])
    theirs_creds = Path(theirs["AWS_SHARED_CREDENTIALS_FILE"])
    assert ours_creds.exists() == theirs_creds.exists()
    assert load_config(ours["AWS_CONFIG_FILE"]) == load_config(theirs["AWS_CONFIG_FILE"])
    if ours_creds.exists():
        assert raw_config_parse(str(ours_creds)) == raw_config_parse(str(theirs_creds))
    assert SECRET not in mine.stdout + mine.stderr


def test_new_long_term_key_drops_stale_session_token(isolated_env: AwsHome) -> None:
    isolated_env.write_credentials(
        "[default]\naws_access_key_id = ASIAOLD\naws_secret_access_key = x\naws_session_token = t\n"
    )
    result = run_rolecall(["configure"], env=isolated_env.env, input=f"{KEY}\n{SECRET}\n\n\n")
    assert result.returncode == 0, result.stderr
    assert raw_config_parse(str(isolated_env.credentials))["default"] == {
        "aws_access_key_id": KEY,
        "aws_secret_access_key": SECRET,
    }


# ---------------------------------------------------------------------------------------------------- import

WITH_USER = (
    f"User Name,Password,Access key ID,Secret access key,Console login link\nalice,pw,{KEY},{SECRET},https://x\n"
)
NO_USER = f"Access key ID,Secret access key\n{KEY},{SECRET}\n"


def _import(aws_home: AwsHome, tmp_path: Path, text: str, *args: str) -> Any:
    csv = tmp_path / "credentials.csv"
    csv.write_bytes(text.encode("utf-8"))
    return run_rolecall(["configure", "import", "--csv", f"file://{csv}", *args], env=aws_home.env)


@pytest.mark.parametrize(
    "text",
    [
        WITH_USER,
        "\ufeff" + WITH_USER,  # a byte-order mark
        WITH_USER.replace("\n", "\r\n"),  # CRLF
        f'"User Name","Access key ID","Secret access key"\n"alice","{KEY}","{SECRET}"\n\n',  # quoted, blank line
    ],
)
def test_import_with_user_name(text: str, aws_home: AwsHome, tmp_path: Path) -> None:
    aws_home.write_credentials(
        "# keep me\n[other]\naws_access_key_id = AKIAOTHEROTHEROTHER\naws_secret_access_key = s\n"
    )
    result = _import(aws_home, tmp_path, text)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Successfully imported 1 profile(s)\n"
    parsed = raw_config_parse(str(aws_home.credentials))
    assert parsed["alice"] == {"aws_access_key_id": KEY, "aws_secret_access_key": SECRET}
    assert "other" in parsed
    assert aws_home.credentials.read_text().startswith("# keep me\n")
    assert os.stat(aws_home.credentials).st_mode & 0o777 == 0o600
    assert SECRET not in result.stdout + result.stderr


def test_import_without_user_name_needs_profile(aws_home: AwsHome, tmp_path: Path) -> None:
    refused = _import(aws_home, tmp_path, NO_USER)
    assert refused.returncode == 8 and len(refused.stderr.splitlines()) == 1 and "--profile" in refused.stderr
    done = _import(aws_home, tmp_path, NO_USER, "--profile", "dev", "--profile-prefix", "work-")
    assert done.returncode == 0, done.stderr
    assert raw_config_parse(str(aws_home.credentials))["work-dev"]["aws_access_key_id"] == KEY
    assert os.stat(aws_home.credentials).st_mode & 0o777 == 0o600


def test_import_bad_header_and_invalid_rows(aws_home: AwsHome, tmp_path: Path) -> None:
    bad = _import(aws_home, tmp_path, "Name;Key;Secret\nx;y;z\n")
    assert bad.returncode == 8 and len(bad.stderr.splitlines()) == 1 and "hint:" in bad.stderr
    rows = f"User Name,Access key ID,Secret access key\nalice,{KEY},{SECRET}\nbob,,\n"
    assert _import(aws_home, tmp_path, rows).returncode == 8
    assert not aws_home.credentials.exists()  # nothing written on refusal
    skipped = _import(aws_home, tmp_path, rows, "--skip-invalid")
    assert skipped.returncode == 0 and "line 3" in skipped.stderr
    assert set(raw_config_parse(str(aws_home.credentials))) == {"alice"}


def test_import_existing_profile_not_overwritten_silently(aws_home: AwsHome, tmp_path: Path) -> None:
    aws_home.write_credentials(
        "[alice] # old\naws_access_key_id = AKIAOLDOLDOLDOLDOLD\naws_secret_access_key = old\naws_session_token = t\n"
    )
    before = aws_home.credentials.read_text()
    refused = _import(aws_home, tmp_path, WITH_USER)
    assert refused.returncode == 8 and "--overwrite" in refused.stderr
    assert aws_home.credentials.read_text() == before
    done = _import(aws_home, tmp_path, WITH_USER, "--overwrite")
    assert done.returncode == 0, done.stderr
    assert raw_config_parse(str(aws_home.credentials))["alice"] == {
        "aws_access_key_id": KEY,
        "aws_secret_access_key": SECRET,
    }
    again = _import(aws_home, tmp_path, WITH_USER)  # the same keys again: nothing to refuse
    assert again.returncode == 0


def test_aws_cli_v1_has_no_import(aws_home: AwsHome) -> None:
    # The oracle for import is the v2 documentation; make sure the installed v1 really lacks it.
    assert run_aws(["configure", "import", "--csv", "x"], env=aws_home.env).returncode != 0


def test_configure_profile_as_a_library_call(aws_home: AwsHome) -> None:
    """``rolecall.config.interactive.configure_profile`` without the command: streams in, files written, no print."""
    import io

    from rolecall.config.interactive import InputEndedError, configure_profile
    from rolecall.config.paths import AwsPaths

    aws_home.write_credentials(f"[dev]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
    paths = AwsPaths.from_env(aws_home.env)
    prompts, said = io.StringIO(), []
    answers = configure_profile(
        paths, "dev", io.StringIO(f"\n{NEW_SECRET}\neu-west-1\n\n"), prompts, reporter=said.append
    )
    assert answers == {"aws_secret_access_key": NEW_SECRET, "region": "eu-west-1"}
    assert prompts.getvalue().startswith("AWS Access Key ID [****************MPLE]: ")
    assert raw_config_parse(str(aws_home.credentials))["dev"]["aws_secret_access_key"] == NEW_SECRET
    assert load_config(str(aws_home.config))["profiles"]["dev"]["region"] == "eu-west-1"
    assert said == []  # the credentials file is private: nothing to warn about
    before = (aws_home.credentials.read_bytes(), aws_home.config.read_bytes())
    with pytest.raises(InputEndedError):
        configure_profile(paths, "dev", io.StringIO("\nx\n"), io.StringIO())
    assert (aws_home.credentials.read_bytes(), aws_home.config.read_bytes()) == before
