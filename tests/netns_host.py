"""Test hosts in a network namespace that the test creates itself, for the live-check tests.

One namespace, joined to the root namespace by a veth pair. The root end and the hosts' addresses come from
TEST-NET-2 (198.51.100.0/24, RFC 5737) and live only on that veth: traffic to them never leaves this
machine. nftables rules inside the namespace drop or let through TCP ports, as a security group would;
deleting the namespace removes the veth pair and its rules with it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from live_cluster import Unavailable

PREFIX = "198.51.100."  # TEST-NET-2, documentation only (RFC 5737): never routed anywhere
TABLE = "vizdoctor"
NAME_PREFIX = "vzd"


def remove_stale() -> None:
    """Namespaces left by a test process that was killed: end what runs in them, then delete them."""
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False, timeout=20)
    for line in listing.stdout.splitlines():
        name = line.split(" ", 1)[0]
        m = re.fullmatch(rf"{NAME_PREFIX}(\d+)", name)
        if not m or Path(f"/proc/{m.group(1)}").exists():
            continue
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, check=False)
        for pid in pids.stdout.split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False, timeout=20)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=20)


def unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add); run the tests as root"
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (Debian package {package}; `make sysdeps` installs it as root)"
    return None


def _free_block(start: int) -> int:
    """The first /29 of TEST-NET-2, from `start` on, that no interface of this namespace uses yet."""
    if shutil.which("ip") is None:
        return start  # __enter__ reports that `ip` is missing
    shown = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=False)
    used = set(re.findall(re.escape(PREFIX) + r"(\d+)/", shown.stdout))
    for i in range(32):
        block = (start + i) % 32
        if str(8 * block + 1) not in used:
            return block
    raise Unavailable(f"every /29 of {PREFIX}0/24 is in use by other test namespaces")


class TestHost:
    """Addresses `hosts[0..n-1]` inside namespace `name`; use as a context manager."""

    __test__ = False  # not a pytest class

    def __init__(self, count: int = 5) -> None:
        block = _free_block(os.getpid() % 32)  # a /29 of its own per test process
        self.name = f"{NAME_PREFIX}{os.getpid()}"  # at most 10 characters: its veth names stay within 15
        self.gateway = f"{PREFIX}{8 * block + 1}"
        self.hosts = [f"{PREFIX}{8 * block + 2 + i}" for i in range(min(count, 5))]
        self.dropped: set[tuple[str, int]] = set()
        self.procs: list[subprocess.Popen[str]] = []

    def __enter__(self) -> TestHost:
        reason = unavailable_reason()
        if reason:
            raise Unavailable(reason)
        remove_stale()
        try:
            self._setup()
        except (subprocess.CalledProcessError, OSError) as exc:
            self.close()
            err = getattr(exc, "stderr", "") or exc
            raise Unavailable(f"cannot create the test network namespace: {err}") from exc
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _setup(self) -> None:
        root, inner = f"{self.name}h", f"{self.name}n"
        _ip("netns", "add", self.name)
        _ip("link", "add", root, "type", "veth", "peer", "name", inner)
        _ip("link", "set", inner, "netns", self.name)
        _ip("addr", "add", f"{self.gateway}/29", "dev", root)
        _ip("link", "set", root, "up")
        for host in self.hosts:
            _ip("-n", self.name, "addr", "add", f"{host}/29", "dev", inner)
        _ip("-n", self.name, "link", "set", inner, "up")
        _ip("-n", self.name, "link", "set", "lo", "up")
        self._rules()

    def _rules(self) -> None:
        """Rewrite the namespace's input chain: drop each (address, port) in `dropped`, accept the rest."""
        rules = "".join(f"    ip daddr {ip} tcp dport {port} drop\n" for ip, port in sorted(self.dropped))
        script = (
            f"table inet {TABLE} {{}}\n"
            f"delete table inet {TABLE}\n"
            f"table inet {TABLE} {{\n  chain input {{\n    type filter hook input priority 0; policy accept;\n"
            f"{rules}  }}\n}}\n"
        )
        subprocess.run(
            ["ip", "netns", "exec", self.name, "nft", "-f", "-"],
            input=script,
            check=True,
            capture_output=True,
            text=True,
            timeout=20,
        )

    def drop(self, ip: str, port: int) -> None:
        self.dropped.add((ip, port))
        self._rules()

    def lift(self, ip: str, port: int) -> None:
        self.dropped.discard((ip, port))
        self._rules()

    def ruleset(self) -> str:
        out = subprocess.run(
            ["ip", "netns", "exec", self.name, "nft", "list", "ruleset"],
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        )
        return out.stdout

    def serve_tls(self, cert: Path, key: Path, listen: list[tuple[str, int]]) -> None:
        """Start tests/tap_backend.py inside the namespace on each address:port; returns once it listens."""
        argv = [
            "ip",
            "netns",
            "exec",
            self.name,
            sys.executable,
            str(Path(__file__).parent / "tap_backend.py"),
        ]
        argv += ["--cert", str(cert), "--key", str(key)]
        for ip, port in listen:
            argv += ["--listen", f"{ip}:{port}"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise Unavailable(f"the test backend did not start in the namespace: {line!r}")

    def serve_silent(self, ip: str, port: int) -> None:
        """A listener that completes TCP handshakes (the kernel does) and then never reads or answers: a hung
        server, as opposed to a dropping network."""
        code = (
            "import socket, sys, time\n"
            "s = socket.socket()\n"
            f"s.bind(({ip!r}, {port}))\n"
            "s.listen(128)\n"
            "print('ready', flush=True)\n"
            "time.sleep(3600)\n"
        )
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.name, sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise Unavailable("the silent test listener did not start in the namespace")

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=5)
        self.procs.clear()
        # The veth pair and the nftables table go with the namespace.
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False, timeout=20)
