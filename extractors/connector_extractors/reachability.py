"""Why a database server cannot be reached: DNS, refused, timed out, or no route.

Drivers word network failures in their own ways (and some not at all), so when a connection fails for
a reason that is not an authentication or permission error the extractor probes the address itself with
a plain TCP connection and reports what it saw.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["dns", "refused", "timeout", "unreachable", "open"]


@dataclass(frozen=True)
class Probe:
    outcome: Outcome
    detail: str


def probe(host: str, port: int, timeout: float) -> Probe:
    """Resolve `host` and open (then close) a TCP connection to `port`."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return Probe("dns", f"the host name {host!r} could not be resolved (DNS lookup failed: {exc})")
    last: Probe | None = None
    for family, kind, proto, _name, address in addresses:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return Probe("open", f"{host}:{port} accepts TCP connections")
        except ConnectionRefusedError:
            last = Probe(
                "refused",
                f"the connection to {host}:{port} was refused (nothing listens there, "
                "or a firewall rejects the connection)",
            )
        except TimeoutError:
            last = Probe(
                "timeout",
                f"the connection to {host}:{port} timed out after {timeout:g}s "
                "(a firewall may be dropping the packets)",
            )
        except OSError as exc:
            last = Probe("unreachable", f"{host}:{port} is unreachable ({exc.strerror or exc})")
        finally:
            sock.close()
    return last or Probe("dns", f"the host name {host!r} resolved to no address")
