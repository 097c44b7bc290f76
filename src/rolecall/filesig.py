"""What a file or folder is, as the caches that trust a file while it does not change compare it.

One definition for the parse cache, the caches derived from the AWS files, the replay and the cache's warnings.
Imports only ``os``: the replay (every ``rolecall`` process's first step) loads it.
"""

from __future__ import annotations

import os

#: (inode, device, size, mtime ns, ctime ns): what changes when a file does in any way (an atomic replace moves the
#: inode; an edit in place the mtime or, if the mtime is put back, the ctime).
Signature = tuple[int, int, int, int, int]
#: (inode, device, owner, mode): what a folder whose owner was checked is (not its timestamps, which every entry
#: added to it moves).
Identity = tuple[int, int, int, int]


def signature(info: os.stat_result) -> Signature:
    """The stat signature of a file (see ``Signature``)."""
    return (info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def identity(info: os.stat_result) -> Identity:
    """The identity of a folder (see ``Identity``)."""
    return (info.st_ino, info.st_dev, info.st_uid, info.st_mode)
