"""Throwaway PKI for a local control plane: a CA, serving certificates and the service-account key pair."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(directory: Path) -> tuple[Path, Path]:
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "7",
        "-subj",
        "/CN=online-connector-testbed-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        cwd=directory,
    )
    return directory / "ca.crt", directory / "ca.key"


def make_serving_cert(directory: Path, name: str, sans: str, usage: str = "serverAuth") -> tuple[Path, Path]:
    """A certificate for `name`, signed by the CA in `directory`; `sans` like 'DNS:localhost,IP:127.0.0.1'."""
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN={name}",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
        cwd=directory,
    )
    (directory / f"{name}.ext").write_text(f"subjectAltName={sans}\nextendedKeyUsage={usage}\n")
    _openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "7",
        "-extfile",
        f"{name}.ext",
        "-out",
        f"{name}.crt",
        cwd=directory,
    )
    return directory / f"{name}.crt", directory / f"{name}.key"


def make_service_account_keys(directory: Path) -> tuple[Path, Path]:
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=directory)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=directory)
    return directory / "sa.pub", directory / "sa.key"


def make_client_cert(directory: Path, name: str, organization: str) -> tuple[Path, Path]:
    """A client certificate (CN=name, O=organization) signed by the CA in `directory`."""
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/O={organization}/CN={name}",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=directory,
    )  # fmt: skip
    (directory / f"{name}.ext").write_text("extendedKeyUsage=clientAuth\n")
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "7", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=directory,
    )  # fmt: skip
    return directory / f"{name}.crt", directory / f"{name}.key"
