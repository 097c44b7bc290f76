"""Differential property tests: rolecall's reader against botocore's, on generated files.

For every generated pair of files (config + credentials), rolecall's ``parse_raw`` / ``load_config_file`` /
``ConfigFiles.full_config`` must equal botocore's ``configloader.raw_config_parse`` / ``load_config`` /
``Session.full_config``, or both must fail. The number of examples comes from ``ROLECALL_HYPOTHESIS_EXAMPLES``
(default 2000).
"""

from __future__ import annotations

import os
import random
import shlex
import tempfile
from collections.abc import Callable
from typing import Any

import botocore.configloader
import botocore.exceptions
import botocore.session
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rolecall.config.parse import ConfigFiles, load_config_file, parse_raw, read_raw_file, split_section_name
from rolecall.config.paths import AwsPaths
from rolecall.errors import ConfigParseError

EXAMPLES = int(os.environ.get("ROLECALL_HYPOTHESIS_EXAMPLES", "2000"))

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)

# --- the grammar --------------------------------------------------------------------------------------------
# Every line (or small block of lines) comes from pools enumerated once at import: one draw per chunk keeps
# generation cheap enough for thousands of files per run, and hypothesis still shrinks to a few chunks.

SPACES = ["", " ", "\t"]
NAME_WORDS = ["dev", "prod", "Dev", "my profile", "x-y", "p.q", "default", "ü", "profile", "", "a\tb"]


def name_forms(word: str) -> list[str]:
    """The NAME of a ``[profile NAME]`` header: plain, quoted, escaped, broken, or several words."""
    dq = '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return [
        word,
        dq,
        "'" + word + "'",
        word.replace(" ", "\\ ") + "\\x",
        word + "  other",
        '"' + word,
        "'" + word,
        word + '"q"' + "''",
        word + "\\",
        '"a\\"b"',
    ]


PROFILE_PREFIXES = ["profile ", "profile  ", "profile\t", "profile", "profiles ", "sso-session ", "services "]
COMMON_HEADERS = [
    "[default]",
    '[profile "my profile"]',
    "[sso-session corp]",
    "[services local]",
    "[DEFAULT]",
    "[preview]",
    "[dev]",
    *(f"[profile p{i}]" for i in range(20)),
]
ALL_HEADERS = sorted(
    {
        lead + "[" + prefix + form + tail + "]" + trailer
        for lead in ["", " "]
        for prefix in PROFILE_PREFIXES
        for word in NAME_WORDS
        for form in name_forms(word)
        for tail in ["", " "]
        for trailer in ["", " # not a comment", "x]"]
    }
    | {
        lead + "[" + inner + "]"
        for lead in SPACES
        for inner in [
            "default",
            "Default",
            " default",
            "default ",
            "DEFAULT",
            "plugins",
            "profilefoo",
            " profile x",
            "a]b",
            "]",
            "[x",
            "a=b",
            "#x",
            ";x",
            "profile a:b",
            "profile a=b",
        ]
    }
    | {"[]", "[", "[x", "x]"}
)
KEYS = ["region", "Region", "REGION", "output", "aws_access_key_id", "role_arn", "s3", "api versions", "x", "İx", "a#b"]
VALUES = [
    "us-east-1",
    "",
    "json",
    "value # not a comment",
    "a=b",
    "a:b",
    "50%",
    "%(x)s",
    "ü",
    "[x]",
    " spaced ",
    "\x0c",
    "a\x0bb",
    "\u2028x",
    "x\x85y",
    "\xa0",
]
DELIMS = ["=", ":", " = ", ": ", " =", "\t=\t", " : "]
INDENTS = [" ", "  ", "    ", "\t", " \t"]
COMMON_KV = [
    f"{key} = {value}"
    for key in [
        "region",
        "output",
        "role_arn",
        "source_profile",
        "mfa_serial",
        "external_id",
        "duration_seconds",
        "role_session_name",
        "credential_process",
        "aws_access_key_id",
        "aws_secret_access_key",
        "sso_session",
    ]
    for value in ["us-east-1", "x"]
]
ALL_KV = [k + d + v for k in KEYS for d in DELIMS for v in VALUES]
MISC = [
    " region = a",
    "\tRegion: b",
    "",
    "",
    " ",
    "\t",
    "# comment",
    "; comment",
    "  # indented comment",
    "#",
    "# region = x",
    ";[x]",
    "  more = x",
]
JUNK = ["junk", "= x", ": y", "=", "= a:b", ": a=b", "\ufeffx = 1", "é", "[]", "x]", "[a=b", "[x:"]
NESTED_LINES = [
    i + line
    for i in INDENTS
    for line in [
        "signature_version = s3v4",
        "Max_Concurrency=10",
        "endpoint_url =  http://x ",
        "a b = c",
        "k = a=b",
        "x =",
    ]
] + ["", " ", "  # c", "# c", "  ; c", "    deep = 1", "  \x0cx=1"]
BAD_NESTED_LINES = ["  signature_version: s3v4", "  bad", "  \x0bbad"]
NESTED_HEADS = ["s3 =", "S3 =", "api_versions=", "ec2 =", "x:", "s3 = "]
CONT_LINES = ["  cont", "  more = x", "  [x]", "", "# c", "    deeper = 1", "\tt = 2", "  # c", " ;c"]


def _composed(heads: list[str], tails: list[str], count: int, seed: int, bad: list[str] | None = None) -> list[str]:
    """Multi-line chunks (a key line and the indented lines under it), enumerated once with a fixed seed.

    One chunk in 20 also gets a line from ``bad`` (one bad line fails the whole file).
    """
    rng = random.Random(seed)
    chunks = []
    for _ in range(count):
        tail = rng.choices(tails, k=rng.randint(0, 4))
        if bad and rng.randrange(20) == 0:
            tail.insert(rng.randint(0, len(tail)), rng.choice(bad))
        chunks.append("\n".join([rng.choice(heads), *tail]))
    return chunks


NESTED_CHUNKS = _composed(NESTED_HEADS, NESTED_LINES, 3000, 1, BAD_NESTED_LINES)
CONTINUED_CHUNKS = _composed(ALL_KV, CONT_LINES, 3000, 2)

# A file is drawn as one byte string (one hypothesis draw, cheap, and it shrinks well): each chunk takes two
# bytes, the first picks a pool with these weights (out of 256), the second an item of the pool.
POOLS: list[tuple[int, list[str]]] = [
    (30, COMMON_HEADERS),
    (14, ALL_HEADERS),
    (90, COMMON_KV),
    (40, ALL_KV),
    (26, MISC),
    (4, JUNK),
    (26, NESTED_CHUNKS),
    (26, CONTINUED_CHUNKS),
]
POOL_OF_BYTE = [pool for weight, pool in POOLS for _ in range(weight)]
assert len(POOL_OF_BYTE) == 256


def dedupe(lines: list[str]) -> list[str]:
    """Drop most repeated headers and keys, so that most generated files parse (duplicates are errors).

    A rough filter that only shapes the distribution of inputs; the expected results always come from botocore.
    """
    kept: list[str] = []
    headers: set[str] = set()
    keys: set[str] = set()
    after_header = False  # an indented line right after a header is a key line, not a continuation
    for line in lines:
        text = line.strip()
        if not text or text[0] in "#;":
            kept.append(line)
            continue
        if text.startswith("[") and line[0] not in " \t":
            if text in headers:
                continue
            headers.add(text)
            keys = set()
            after_header = True
        elif after_header or line[0] not in " \t":
            key = text.split("=")[0].split(":")[0].strip().lower()
            if key in keys:
                continue
            keys.add(key)
            after_header = False
        kept.append(line)
    return kept


EOLS = ["\n", "\n", "\n", "\r\n", "\r", "mixed"]


def render(program: bytes, tidy: bool) -> str:
    """Turn drawn bytes into a file: byte 0 picks the options, then two bytes per chunk.

    Options: whether the file starts with a header (most do: text before the first header fails the whole
    file), whether duplicates are mostly filtered out, the line-ending style, a final newline, a BOM (rare).
    ``tidy`` files always start with a header, filter duplicates and have no BOM.
    """
    flags = program[0] if program else 0
    lead = tidy or flags % 7 != 6
    unique = tidy or (flags >> 3) % 6 != 5
    eol = EOLS[(flags >> 1) % len(EOLS)]
    final = flags % 3 != 2
    bom = not tidy and flags == 255
    chunks = []
    for i in range(1, len(program) - 1, 2):
        pool = POOL_OF_BYTE[program[i]]
        # The position takes part in the index, so that every item of a large pool is reachable.
        chunks.append(pool[(program[i + 1] + 256 * i) % len(pool)])
    if lead and not (chunks and chunks[0].lstrip().startswith("[")):
        chunks.insert(0, COMMON_HEADERS[flags % len(COMMON_HEADERS)])
    lines = "\n".join(chunks).split("\n")
    if unique:
        lines = dedupe(lines)
    if eol == "mixed":
        endings = ["\n", "\r\n", "\r"]
        text = "".join(line + endings[i % 3] for i, line in enumerate(lines))
    else:
        text = eol.join(lines) + (eol if final else "")
    return ("\ufeff" if bom else "") + text


def ini_text(tidy: bool = False) -> st.SearchStrategy[str]:
    """A whole generated file (see ``render``)."""
    return st.binary(min_size=16, max_size=200).map(lambda program: render(program, tidy))


# --- the oracle ---------------------------------------------------------------------------------------------

Outcome = tuple[str, Any]


def outcome(func: Callable[[], Any]) -> Outcome:
    """``('ok', value)`` or ``('error', type)``; only the parse errors each side is allowed to raise count."""
    try:
        return ("ok", func())
    except (botocore.exceptions.ConfigParseError, ConfigParseError) as exc:
        return ("error", type(exc).__name__)


def same(ours: Outcome, theirs: Outcome) -> bool:
    """Equal values, or both failed."""
    if ours[0] == "error" or theirs[0] == "error":
        return ours[0] == theirs[0]
    return bool(ours[1] == theirs[1])


@pytest.fixture(scope="module")
def workdir() -> Any:
    """One folder for all examples (function-scoped tmp_path would be shared across examples anyway)."""
    with tempfile.TemporaryDirectory() as path:
        yield path


def write(path: str, text: str) -> None:
    with open(path, "wb") as handle:
        handle.write(text.encode("utf-8", "surrogatepass"))


def botocore_full_config(config: str, credentials: str) -> dict[str, Any]:
    # include_builtin_handlers=False skips ~10 ms of event registration that full_config does not use.
    session = botocore.session.Session(include_builtin_handlers=False)
    session.set_config_variable("config_file", config)
    session.set_config_variable("credentials_file", credentials)
    full: dict[str, Any] = session.full_config
    return full


def check_one_file(path: str, text: str) -> Outcome:
    """One file alone: ``raw_config_parse`` (credentials file) and ``load_config`` (config file).

    Returns botocore's ``raw_config_parse`` outcome.
    """
    theirs_raw = outcome(lambda: botocore.configloader.raw_config_parse(path))
    ours_raw = outcome(lambda: parse_raw(text, path))
    assert same(ours_raw, theirs_raw), (ours_raw, theirs_raw)
    assert same(outcome(lambda: read_raw_file(path)), theirs_raw)
    if theirs_raw[0] == "error":
        assert outcome(lambda: load_config_file(path))[0] == "error"
        return theirs_raw
    # Order matters too: available_profiles and `configure list-profiles` show file order.
    assert list(ours_raw[1]) == list(theirs_raw[1])
    for name, section in ours_raw[1].items():
        assert list(section) == list(theirs_raw[1][name])
    # botocore's load_config is exactly build_profile_map(raw_config_parse(path)); reuse the parse
    # (build_profile_map deep-copies its input).
    theirs_cfg = botocore.configloader.build_profile_map(theirs_raw[1])
    ours_cfg = load_config_file(path)
    assert ours_cfg == theirs_cfg
    assert list(ours_cfg) == list(theirs_cfg)
    assert list(ours_cfg["profiles"]) == list(theirs_cfg["profiles"])
    return theirs_raw


@SETTINGS
@given(
    config=ini_text(),
    credentials=ini_text(tidy=True),
    config_exists=st.sampled_from([True] * 6 + [False]),
    credentials_exists=st.sampled_from([True] * 3 + [False]),
)
@example(
    config="[default]\nregion = a # b\ns3 =\n  x = 1\n[DEFAULT]\nz = 1\n",
    credentials="",
    config_exists=True,
    credentials_exists=False,
)
@example(
    config='[profile a]\nx=1\n[profile  a]\ny=2\n[profile "a"]\nz=3\n',
    credentials="",
    config_exists=True,
    credentials_exists=False,
)
@example(config="[DEFAULT]\ns3 =\n  bad\n", credentials="", config_exists=True, credentials_exists=False)
@example(
    config="[DEFAULT]\ns3 =\n  bad\n[a]\ns3 = fine\n", credentials="", config_exists=True, credentials_exists=False
)
@example(config="[DEFAULT]\ns3 =\n  bad\n[a]\n", credentials="", config_exists=True, credentials_exists=False)
@example(config="\ufeff[default]\n", credentials="", config_exists=True, credentials_exists=False)
@example(
    config="[profile a]\nregion = x\n", credentials="[a]\nregion = y\n", config_exists=True, credentials_exists=True
)
@example(config="", credentials="[profile a]\nx = 1\n", config_exists=False, credentials_exists=True)
def test_reader_matches_botocore(
    workdir: str, config: str, credentials: str, config_exists: bool, credentials_exists: bool
) -> None:
    """Each file alone, then both merged as ``Session.full_config``; also ``profile()`` and ``profile_names()``."""
    config_path = os.path.join(workdir, "config")
    credentials_path = os.path.join(workdir, "credentials")
    raw: dict[str, Outcome] = {}
    for path, text, exists in (
        (config_path, config, config_exists),
        (credentials_path, credentials, credentials_exists),
    ):
        if exists:
            write(path, text)
            raw[path] = check_one_file(path, text)
        elif os.path.exists(path):
            os.unlink(path)
    theirs = outcome(lambda: botocore_full_config(config_path, credentials_path))
    paths = AwsPaths(config_path, credentials_path, os.path.join(workdir, "cache"), os.path.join(workdir, "rc"))
    loaded = outcome(lambda: ConfigFiles.load(paths))
    ours = ("ok", loaded[1].full_config) if loaded[0] == "ok" else loaded
    assert same(ours, theirs), (ours, theirs)
    if ours[0] == "error":
        return
    files = ConfigFiles.load(paths)  # fresh: profile() must not rely on full_config having been built
    assert files.profile_names() == list(theirs[1]["profiles"])
    for name, merged in theirs[1]["profiles"].items():
        assert files.profile(name) == merged
    # The single-file views are what SharedCredentialProvider and ConfigProvider read.
    if credentials_exists:
        assert files.credentials == raw[credentials_path][1]
    if config_exists:
        assert files.config == botocore.configloader.build_profile_map(raw[config_path][1])


SHLEX_TEXT = st.text(alphabet="ab \t\r\n'\"\\xé\x0b\xa0#;", max_size=14)


@SETTINGS
@given(name=SHLEX_TEXT)
@example(name="profile ''")
@example(name='profile "a\\"b"')
@example(name='profile "a\\')
@example(name="profile a\\")
def test_split_section_name_matches_shlex(name: str) -> None:
    try:
        expected: Any = shlex.split(name)
    except ValueError:
        expected = ValueError
    try:
        ours: Any = split_section_name(name)
    except ValueError:
        ours = ValueError
    assert ours == expected


# Character soup: files drawn character by character from the characters that matter to the grammar (brackets,
# delimiters, comment marks, every kind of line break and blank, quotes, a BOM, case-changing letters), to find
# what the chunk grammar above does not think of. Lines are seeded with a header so that many files parse.
SOUP = st.text(alphabet="[]=:#;  \t\r\n\x0b\x0c\x1c\x85\u2028\xa0\ufeffaAİ'\"\\p", max_size=60)


@settings(
    max_examples=max(1, EXAMPLES // 2),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=SOUP, header=st.sampled_from(["", "[a]\n", "[profile p]\n", "[DEFAULT]\n"]))
def test_character_soup_matches_botocore(workdir: str, text: str, header: str) -> None:
    path = os.path.join(workdir, "soup")
    write(path, header + text)
    check_one_file(path, header + text)
