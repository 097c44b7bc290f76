"""Where the credentials server may listen: the address policy, and the Unix socket a container mounts.

By default the server listens on a loopback IP only. Reach beyond the machine's own processes is opt-in and
narrow (see docs/server.md):

* ``--bind ADDRESS``: one local address, such as the Docker bridge (172.17.0.1), so containers on that bridge
  reach the server; the token, the secret path and the Host check still apply to every request.
* ``0.0.0.0`` / ``::`` (every interface, so every network the machine is on) are refused unless asked for by a
  separate flag: credentials go over plain HTTP, and the token is the only thing between them and the network.
* ``--unix-socket PATH``: a socket file with mode 0600 in a folder with mode 0700, both this user's; a link
  planted at the path or in place of the folder is refused, never followed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import stat

from rolecall.errors import InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: The flag that allows every interface (named in the refusal, so the user knows the way and the price).
ANY_INTERFACE_FLAG = "--allow-any-address"


class ServerAddressError(InvalidInputError):
    """The server was asked to listen on an address it may not use (not loopback without opt-in, a name...)."""


class UnixSocketError(InvalidInputError):
    """The Unix socket cannot be created safely (a link planted, a folder open to others, a path too long)."""


def listen_address(host: str, *, exposed: bool = False, any_interface: bool = False) -> IPAddress:
    """The IP address to listen on, or ``ServerAddressError``.

    A loopback address is always allowed; another local address only with ``exposed`` (``--bind``); the
    unspecified address (every interface) only with ``any_interface`` as well.
    """
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is None:
        raise ServerAddressError(
            f"the credentials server listens on an IP address, not the name '{host}'",
            hint="give the address itself, e.g. 127.0.0.1 or the Docker bridge's 172.17.0.1",
        )
    if address.is_loopback:
        return address
    if address.is_unspecified and exposed:
        if any_interface:
            return address
        raise ServerAddressError(
            f"refusing to listen on every interface ({host}): the credentials would be offered over plain HTTP "
            "to every network this machine is on, guarded by the token alone",
            hint=f"bind to the one address containers use (e.g. --bind 172.17.0.1), keep 127.0.0.1, use "
            f"--unix-socket, or add {ANY_INTERFACE_FLAG} if you accept that",
        )
    if not exposed:
        raise ServerAddressError(
            f"the credentials server only listens on a loopback IP address, not '{host}'",
            hint="use 127.0.0.1 (or ::1); anything else would offer the credentials to other machines",
        )
    return address


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _private_socket_folder(folder: str) -> None:
    """``folder`` exists (created 0700 when missing), is a real folder (not a link) of this user's, mode 0700."""
    info = _lstat(folder)
    if info is None:
        try:
            os.mkdir(folder, 0o700)
        except OSError as error:
            raise UnixSocketError(
                f"cannot create the folder {folder} for the socket: {error.strerror or error}",
                hint="create its parent folder first, or choose another path",
            ) from None
        info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UnixSocketError(
            f"{folder} is not a folder (a link or a file is there); the socket is not put through it",
            hint="give the socket a folder of its own, e.g. ~/.rolecall/run/creds.sock",
        )
    if info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise UnixSocketError(
            f"the folder {folder} is open to other users (mode {info.st_mode & 0o7777:04o}, uid {info.st_uid}); "
            "they could replace the socket",
            hint=f"give the socket a private folder of its own (chmod 700 {folder}, or another path)",
        )


def _clear_stale_socket(path: str) -> None:
    """Remove a socket a previous server left at ``path``; refuse anything else (a link, a file, a live server)."""
    info = _lstat(path)
    if info is None:
        return
    if not stat.S_ISSOCK(info.st_mode) or info.st_uid != os.geteuid():
        raise UnixSocketError(
            f"{path} exists and is not a socket of yours (a link or a file?); it is left alone",
            hint="remove it, or choose another path",
        )
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1)
        probe.connect(path)
    except OSError:
        os.unlink(path)  # nobody listens: a leftover of a server that was killed
        return
    finally:
        probe.close()
    raise UnixSocketError(f"another server listens on {path}", hint="stop it, or choose another path")


def bind_unix_socket(path: str) -> socket.socket:
    """A listening Unix socket at ``path`` (absolute), mode 0600, in this user's 0700 folder."""
    path = os.path.abspath(os.path.expanduser(path))
    if len(os.fsencode(path)) >= 100:
        raise UnixSocketError(f"the socket path {path} is too long for a Unix socket (about 100 bytes at most)",
                              hint="choose a shorter path")  # fmt: skip
    _private_socket_folder(os.path.dirname(path))
    _clear_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        # The folder is 0700 and ours: nobody can reach the socket between bind and chmod.
        sock.bind(path)
        os.chmod(path, 0o600)
        sock.listen(512)
    except OSError as error:
        sock.close()
        raise UnixSocketError(f"cannot listen on {path}: {error.strerror or error}",
                              hint="choose another path") from None  # fmt: skip
    return sock


def socket_inode(path: str) -> int:
    """The inode of the socket file at ``path`` (kept to recognise it when the server stops)."""
    return os.lstat(path).st_ino


def remove_unix_socket(path: str, inode: int) -> None:
    """Remove the socket file when it is still the one this server made (not something put there since)."""
    info = _lstat(path)
    if info is not None and stat.S_ISSOCK(info.st_mode) and info.st_ino == inode:
        with contextlib.suppress(OSError):
            os.unlink(path)
