"""The optional extras of ``pyproject.toml`` and what to say when one is not installed.

``pip install rolecall`` installs the core only (botocore). The sandbox (``rolecall sandbox``, ``rolecall demo``),
the key store (``rolecall keys`` and ``credential-process --keys``) and boto3 sessions need more: the error then
names the packages and the command that installs them, both for pip and for a pipx install (where ``pip install``
would go to another environment). ``tests/cli/test_missing_extras.py`` checks this table against pyproject.toml.
"""

from __future__ import annotations

from rolecall.errors import ConfigError


class Extra:
    """One optional extra: what needs it, its requirements (as in pyproject.toml), the modules it brings."""

    __slots__ = ("also", "imports", "requirements", "what")

    def __init__(
        self, what: str, requirements: tuple[str, ...], imports: tuple[str, ...], also: tuple[str, ...] = ()
    ) -> None:
        """``imports``: the packages the extra names; ``also``: modules that come with them (moto's werkzeug)."""
        self.what = what
        self.requirements = requirements
        self.imports = imports
        self.also = also


#: The extras of pyproject.toml's [project.optional-dependencies] that rolecall's code uses.
EXTRAS = {
    "sandbox": Extra(
        "the sandbox (rolecall sandbox, rolecall demo)",
        ("moto[server]>=5.0", "pyotp>=2.8"),
        ("moto", "pyotp"),
        also=("werkzeug", "flask"),
    ),
    "keys": Extra(
        "the key store (rolecall keys, credential-process --keys)",
        ("keyring>=24", "cryptography>=42"),
        ("keyring", "cryptography"),
    ),
    "boto3": Extra("boto3 sessions (rolecall.boto3_session)", ("boto3>=1.34",), ("boto3",)),
}


class MissingExtraError(ConfigError):
    """An optional part of rolecall was used without its packages (exit 3, CONFIG: the installation lacks it)."""


def install_hint(extra: str) -> str:
    """How to install ``extra``: the pip form, then the pipx form."""
    requirements = " ".join(f"'{requirement}'" for requirement in EXTRAS[extra].requirements)
    return f"pip install 'rolecall[{extra}]'; installed with pipx: pipx inject rolecall {requirements}"


def missing_extra(extra: str, module: str | None = None) -> MissingExtraError:
    """The error for ``extra`` not being installed (``module``: the one an import did not find)."""
    names = EXTRAS[extra].imports
    listed = " and ".join(names)
    found = f" ({module.split('.')[0]} is not installed)" if module else ""
    return MissingExtraError(
        f"{EXTRAS[extra].what} needs the optional package{'s' if len(names) > 1 else ''} {listed}, from the "
        f"'{extra}' extra{found}",
        hint=install_hint(extra),
    )


def extra_for_module(module: str | None) -> str | None:
    """The extra that provides ``module`` (a dotted name: its top-level package counts), or None."""
    top = (module or "").split(".")[0]
    for name, extra in EXTRAS.items():
        if top in extra.imports or top in extra.also:
            return name
    return None


def require(extra: str) -> None:
    """Import the packages of ``extra``; ``MissingExtraError`` when one is not there."""
    import importlib

    for module in EXTRAS[extra].imports:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            raise missing_extra(extra, error.name) from None
