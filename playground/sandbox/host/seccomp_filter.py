"""The sandbox's seccomp filter, compiled once per process with libseccomp and handed to bwrap as raw BPF."""

from __future__ import annotations

import errno
import functools
import os
import socket
import tempfile

# Syscalls no playground consumer needs and that widen the kernel surface or reach outside the sandbox.
DENIED_SYSCALLS = (
    # debugging and reading other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # namespaces and mounts
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    # kernel objects and modules
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key", "init_module", "finit_module", "delete_module",
    "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
    "open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "fanotify_init",
    # machine-wide settings and legacy interfaces
    "personality", "syslog", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "sethostname", "setdomainname", "iopl", "ioperm", "modify_ldt", "vhangup", "uselib", "ustat",
    "sysfs", "_sysctl", "nfsservctl",
)  # fmt: skip

# clone() flags that would create namespaces (a fresh user namespace grants a full capability set).
NAMESPACE_CLONE_FLAGS = (
    0x00000080,  # CLONE_NEWTIME
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
TIOCSTI = 0x5412
TIOCLINUX = 0x541C


class SeccompUnavailable(RuntimeError):
    """libseccomp (via pyseccomp) cannot be loaded, so no filter can be built."""


@functools.lru_cache(maxsize=1)
def seccomp_bpf() -> bytes:
    """The compiled filter: default allow, the calls above fail with EPERM, other socket families with EAFNOSUPPORT."""
    try:
        import pyseccomp as sc
    except (ImportError, OSError, RuntimeError) as exc:
        raise SeccompUnavailable(f"pyseccomp/libseccomp unavailable: {exc}") from exc
    filt = sc.SyscallFilter(sc.ALLOW)
    # Foreign ABIs (i386 via int 0x80) hit the bad-arch action, which libseccomp sets to kill.
    for name in DENIED_SYSCALLS:
        number = sc.resolve_syscall(sc.Arch.NATIVE, name)
        if number >= 0:
            filt.add_rule(sc.ERRNO(errno.EPERM), number)
    # clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc fall back to clone().
    filt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for flag in NAMESPACE_CLONE_FLAGS:
        filt.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    # Only Unix sockets (asyncio's self-pipe needs a socketpair); the net namespace is empty anyway.
    for name in ("socket", "socketpair"):
        filt.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), name, sc.Arg(0, sc.NE, socket.AF_UNIX))
    for request in (TIOCSTI, TIOCLINUX):
        filt.add_rule(sc.ERRNO(errno.EPERM), "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, request))
    with tempfile.TemporaryFile() as out:
        filt.export_bpf(out)
        out.seek(0)
        return out.read()


def seccomp_fd() -> int:
    """A fresh readable descriptor holding the filter (bwrap reads it once per sandbox)."""
    data = seccomp_bpf()
    fd = os.memfd_create("channels-academy-seccomp", os.MFD_CLOEXEC)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
