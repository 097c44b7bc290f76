"""Whose files rolecall believes: the one rule for caches, folders and lock files (``trusted_owner``).

Imported on the fast path (cache reads), so it imports nothing but ``os``.
"""

from __future__ import annotations

import os

__all__ = ["trusted_owner"]


def trusted_owner(uid: int) -> bool:
    """Whether a file or folder owned by ``uid`` may be believed (read, and written into) by this process.

    This user (the effective uid) and root. As root, also the owner of ``HOME``: root running with a user's HOME
    (``sudo -E``, or a sudo that keeps HOME) acts for that user and already trusts that user's config, whose
    ``credential_process`` is a command it runs; refusing the same user's cache would only cost an MFA prompt on
    every run. Links are another matter (``rolecall.fileio``): root never writes through that user's links to
    files that are not the user's. Everyone where the OS has no owners (Windows).
    """
    if not hasattr(os, "geteuid"):
        return True
    me = os.geteuid()
    if uid == me or uid == 0:
        return True
    if me != 0:
        return False
    try:
        return os.stat(os.path.expanduser("~")).st_uid == uid
    except OSError:
        return False
