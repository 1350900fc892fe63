"""Cut a process off the network: the second wall around user SPARQL.

The guard refuses SERVICE in the parsed query; this makes sure that even a
query that got past it cannot make the engine open a connection. A query
worker calls `deny_network()` first thing, before any thread starts, so every
thread it (and the engine) starts later inherits it:

- a seccomp filter (Linux x86_64 and aarch64, no privileges needed) makes
  `socket()` fail with EACCES for internet families (IPv4, IPv6, packet) and
  refuses io_uring; Unix sockets, which the worker talks to its parent over,
  still work;
- where seccomp is not available, a new empty network namespace (root only),
  in which nothing but a downed loopback exists.

It returns the name of the wall it raised ("seccomp", "netns") or None.
"""

from __future__ import annotations

import ctypes
import os
import platform
import socket
import struct

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_EACCES = 13
_CLONE_NEWNET = 0x40000000

# BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06

# machine -> (audit arch, socket syscall, io_uring_setup syscall, has the x32 ABI)
_ARCHES = {
    "x86_64": (0xC000003E, 41, 425, True),
    "aarch64": (0xC00000B7, 198, 425, False),
}
_DENIED_FAMILIES = (socket.AF_INET, socket.AF_INET6, getattr(socket, "AF_PACKET", 17))


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def _program(arch: int, nr_socket: int, nr_uring: int, x32: bool) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k); jumps are resolved against the labels 'allow' and 'deny'."""
    prog: list[tuple] = [
        (_LD_W_ABS, 0, 0, 4),                 # seccomp_data.arch
        (_JEQ_K, 0, "deny", arch),            # another ABI (e.g. 32-bit calls): refused
        (_LD_W_ABS, 0, 0, 0),                 # seccomp_data.nr
    ]
    if x32:
        prog.append((_JGE_K, "deny", 0, 0x40000000))  # x32 system calls
    prog += [
        (_JEQ_K, "deny", 0, nr_uring),
        (_JEQ_K, 0, "allow", nr_socket),
        (_LD_W_ABS, 0, 0, 16),                # socket(domain, ...): low word of args[0]
    ]
    prog += [(_JEQ_K, "deny", 0, family) for family in _DENIED_FAMILIES]
    prog += [(_RET_K, 0, 0, _RET_ALLOW), (_RET_K, 0, 0, _RET_ERRNO | _EACCES)]
    labels = {"allow": len(prog) - 2, "deny": len(prog) - 1}
    out = []
    for i, (code, jt, jf, k) in enumerate(prog):
        jt = labels[jt] - i - 1 if isinstance(jt, str) else jt
        jf = labels[jf] - i - 1 if isinstance(jf, str) else jf
        out.append((code, jt, jf, k))
    return out


def _seccomp() -> bool:
    spec = _ARCHES.get(platform.machine())
    if spec is None or not platform.system() == "Linux" or struct.calcsize("P") != 8:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    rows = _program(*spec)
    filters = (_Filter * len(rows))(*[_Filter(*row) for row in rows])
    prog = _Program(len(rows), filters)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) == 0


def _netns() -> bool:
    if platform.system() != "Linux":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.unshare(_CLONE_NEWNET) == 0


def deny_network() -> str | None:
    """Raise the strongest wall this system allows; the wall's name, or None if none could be raised."""
    for name, wall in (("seccomp", _seccomp), ("netns", _netns)):
        try:
            if wall():
                return name
        except (OSError, AttributeError, ValueError):
            continue
    return None


def network_denied() -> bool:
    """True when this process cannot open an internet socket."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return True
    with sock:
        try:
            sock.settimeout(0.2)
            sock.connect(("127.0.0.1", 9))
        except ConnectionRefusedError:
            return False
        except OSError:
            return True
    return False


if __name__ == "__main__":  # pragma: no cover - a manual check: python -m kg.store.netwall
    print(deny_network(), network_denied(), os.getpid())
