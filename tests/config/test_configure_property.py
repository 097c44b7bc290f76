"""Differential property test through the real command: for any generated config and credentials files and any
`rolecall configure set NAME VALUE [--profile P]`, botocore reads the new value back (``Session.full_config``)
and every other value of both files unchanged.

Examples: a quarter of env ROLECALL_HYPOTHESIS_EXAMPLES (default 2000), since each one writes real files.
"""

from __future__ import annotations

import copy
import io
import os
import tempfile
from typing import Any

import botocore.session
from botocore.configloader import load_config, raw_config_parse
from botocore.exceptions import ConfigParseError
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rolecall.cli.context import Context
from rolecall.cli.main import main
from rolecall.config.edit import resolve_set
from test_config_edit_property import PROFILE_NAMES, SETTINGS, config_files, values

EXAMPLES = int(os.environ.get("ROLECALL_HYPOTHESIS_EXAMPLES", "2000"))
_WORK = tempfile.mkdtemp(prefix="rolecall-cfgprop-")

_PLAIN_NAMES = [n for n in PROFILE_NAMES if "." not in n]


@st.composite
def set_commands(draw: st.DrawFn) -> tuple[str, str | None, str]:
    name = draw(st.sampled_from([*_PLAIN_NAMES, "brand new"]))
    varname = draw(
        st.sampled_from(
            [
                "region",
                "Region",
                "output",
                "s3.max_concurrency",
                "S3.addressing_style",
                "default.region",
                "default.s3.addressing_style",
                f"profile.{name}.region",
                f"profile.{name}.s3.max_concurrency",
                "aws_access_key_id",
                "aws_session_token",
                f"profile.{name}.aws_secret_access_key",
                "plugins.x",
                "preview.cloudsearch",
            ]
        )
    )
    profile = draw(st.one_of(st.none(), st.sampled_from([*_PLAIN_NAMES, "other new"])))
    return varname, profile, draw(values)


def _load(path: str, loader: Any) -> Any:
    if not os.path.exists(path):
        return None
    return loader(path)


@settings(SETTINGS, max_examples=max(EXAMPLES // 4, 10))
@given(
    config=config_files(credentials=False),
    credentials=config_files(credentials=True),
    command=set_commands(),
    missing=st.sampled_from(["none", "none", "config", "credentials"]),
)
def test_configure_set_reads_back_in_botocore(
    config: str, credentials: str, command: tuple[str, str | None, str], missing: str
) -> None:
    varname, profile, value = command
    folder = tempfile.mkdtemp(dir=_WORK)
    config_path, creds_path = os.path.join(folder, "config"), os.path.join(folder, "credentials")
    if missing != "config":
        with open(config_path, "wb") as handle:
            handle.write(config.encode())
    if missing != "credentials":
        with open(creds_path, "wb") as handle:
            handle.write(credentials.encode())
    try:
        config_before = _load(config_path, load_config)
        creds_before = _load(creds_path, raw_config_parse)
    except ConfigParseError:
        assume(False)
        raise

    env = {"HOME": folder, "AWS_CONFIG_FILE": config_path, "AWS_SHARED_CREDENTIALS_FILE": creds_path}
    # `--` lets a value start with '-' (argparse would take it for an option).
    argv = ["configure", "set", *(["--profile", profile] if profile else []), "--", varname, value]
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, Context(stdin=io.StringIO(), stdout=out, stderr=err, env=env))
    assert (code, out.getvalue()) == (0, ""), err.getvalue()

    target = resolve_set(varname, profile)
    key = target.key.lower()
    expected_config = copy.deepcopy(config_before) if config_before is not None else None
    expected_creds = copy.deepcopy(creds_before) if creds_before is not None else None
    if target.credentials_file:
        expected_creds = expected_creds or {}
        expected_creds.setdefault(target.section.name, {})[key] = value.strip()
    else:
        expected_config = expected_config or {"profiles": {}, "sso_sessions": {}, "services": {}}
        if target.section.kind == "raw":
            section = expected_config.setdefault(target.section.name, {})
        else:
            section = expected_config["profiles"].setdefault(target.section.name, {})
        if target.subkey is None:
            section[key] = value.strip()
        else:
            old = section.get(key)
            nested = dict(old) if isinstance(old, dict) else {}
            nested[target.subkey] = value.strip()
            section[key] = nested
    assert _load(config_path, load_config) == expected_config
    assert _load(creds_path, raw_config_parse) == expected_creds

    # And botocore's session (both files merged) reads the new value, unless the credentials file, which wins
    # in the merge, sets the same key for that profile.
    if target.section.kind == "profile" or target.credentials_file:
        os.environ["AWS_CONFIG_FILE"], os.environ["AWS_SHARED_CREDENTIALS_FILE"] = config_path, creds_path
        full = botocore.session.Session().full_config["profiles"]
        name = target.section.name
        shadowed = not target.credentials_file and key in (creds_before or {}).get(name, {})
        if not shadowed:
            got = full[name][key]
            assert (got if target.subkey is None else got[target.subkey]) == value.strip()
