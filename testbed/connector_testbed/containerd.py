"""A private containerd for the real node: its own config, root, state and socket, CRI enabled.

Debian's containerd and runc. What these machines need (found on them, see docs/testbed.md):
`restrict_oom_score_adj` (no CAP_SYS_RESOURCE: a negative oom_score_adj makes runc fail with "can't get
final child's PID from pipe"), runc rather than crun (crun 1.8 refuses hybrid cgroups), a sandbox image
made locally (no registry), and images imported into the `k8s.io` namespace that the CRI plugin reads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from connector_testbed.processes import spawn, stop

CNI_BIN_DIR = Path("/usr/lib/cni")
CRI_NAMESPACE = "k8s.io"
PAUSE_IMAGE = "localhost/online-connector-pause:1"
_CRI = '"io.containerd.grpc.v1.cri"'


def config_toml(directory: Path, cni_conf_dir: Path, cni_bin_dir: Path = CNI_BIN_DIR) -> str:
    """containerd 1.6 configuration (version 2) that shares nothing with another containerd."""
    return f"""version = 2
root = "{directory / "root"}"
state = "{directory / "state"}"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "{directory / "containerd.sock"}"

[ttrpc]
  address = "{directory / "containerd.sock.ttrpc"}"

[plugins.{_CRI}]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins.{_CRI}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins.{_CRI}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.{_CRI}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{directory / "runc"}"
  [plugins.{_CRI}.cni]
    bin_dir = "{cni_bin_dir}"
    conf_dir = "{cni_conf_dir}"
"""


class Containerd:
    def __init__(
        self, directory: Path, cni_conf_dir: Path, logs_dir: Path, cni_bin_dir: Path = CNI_BIN_DIR
    ) -> None:
        self.dir = directory
        self.cni_bin_dir = cni_bin_dir
        self.socket = directory / "containerd.sock"
        self.config = directory / "config.toml"
        self.cni_conf_dir = cni_conf_dir
        self.log_file = logs_dir / "containerd.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config.write_text(config_toml(self.dir, self.cni_conf_dir, self.cni_bin_dir))
        self.process = spawn(["containerd", "--config", str(self.config)], log_file=self.log_file)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"containerd exited: {self.log_file.read_text(errors='replace')[-2000:]}")
            if self.socket.exists() and self.ctr("version", check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"containerd did not answer on {self.socket} within {timeout:.0f} s")

    def ctr(
        self, *args: str, check: bool = True, input: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        result = subprocess.run(
            ["ctr", "--address", str(self.socket), "--namespace", CRI_NAMESPACE, *args],
            input=input,
            capture_output=True,
            check=False,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"ctr {' '.join(args)} failed: {result.stderr.decode(errors='replace')}")
        return result

    def import_from_docker(self, *images: str) -> None:
        """`docker save` the images and import them where the CRI plugin finds them (no registry)."""
        with tempfile.TemporaryDirectory(prefix="olc-images-") as folder:
            archive = Path(folder) / "images.tar"
            subprocess.run(["docker", "save", "-o", str(archive), *images], check=True, capture_output=True)
            self.ctr("images", "import", str(archive))

    def has_image(self, reference: str) -> bool:
        names = self.ctr("images", "ls", "-q").stdout.decode().split()
        return any(name == reference or name.endswith("/" + reference) for name in names)

    def stop(self) -> None:
        """Kill every task of this containerd, stop it, then end its shims (found by our socket path)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            listing = self.ctr("tasks", "ls", "-q", check=False).stdout.decode().split()
            for task in listing:
                self.ctr("tasks", "kill", "--signal", "SIGKILL", task, check=False)
            for task in listing:
                self.ctr("tasks", "delete", "--force", task, check=False)
        stop(self.process, timeout=10)
        self.process = None
        for pid in self._shim_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _shim_pids(self) -> list[int]:
        """Shims outlive containerd by design; ours carry `-address <our socket>` on their command line."""
        marker = str(self.socket).encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and marker in argv:
                found.append(int(entry.name))
        return found
