"""Old names of ``_resolve_options.chain_for`` and ``verify`` (the chain and ``--verify`` on the command's session).

Kept only while env.py and assume.py, being edited by another part of issue 16, still import from here; goes
once they import ``_resolve_options``. No code of its own. On the fast path (``env``): imports nothing beyond
``_resolve_options``, which imports nothing at load time.
"""

from __future__ import annotations

from rolecall.cli.commands._resolve_options import chain_for as chain_of
from rolecall.cli.commands._resolve_options import verify

__all__ = ["chain_of", "verify"]
