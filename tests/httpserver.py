"""A real HTTP server on 127.0.0.1, in a thread, serving a folder: for tests of downloads.

Behaviour per path can be changed while it runs (tamper, truncate, delay, 404, redirect), and every
request is counted, so a test can assert that a cached file was not downloaded twice.
Never binds anything but the loopback interface.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Behaviour:
    """How the server answers one path (default: the file, whole)."""

    status: int = 200
    body: bytes | None = None       # replace the file's bytes (e.g. tampered content)
    truncate_to: int | None = None  # send only this many bytes, but declare the full length
    delay: float = 0.0              # seconds to wait before answering
    drip: float = 0.0               # send the body 64 bytes at a time, this many seconds apart
    location: str | None = None     # a redirect target, sent with ``status`` (e.g. 302)


@dataclass
class Server:
    root: Path
    host: str = "127.0.0.1"
    port: int = 0
    requests: Counter = field(default_factory=Counter)
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def count(self, suffix: str = "") -> int:
        """Requests whose path ends with ``suffix`` (all requests when empty)."""
        return sum(n for p, n in self.requests.items() if p.endswith(suffix))


def _handler(server: Server):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            server.requests[path] += 1
            how = server.behaviours.get(path, Behaviour())
            if how.delay:
                server.release.wait(how.delay)  # a test can end the wait early
            target = (server.root / path.lstrip("/")).resolve()
            inside = server.root.resolve() in target.parents
            if how.status != 200 or not inside or not target.is_file():
                status = how.status if how.status != 200 else 404
                body = f"{status}\n".encode()
                self.send_response(status)
                if how.location is not None:
                    self.send_header("Location", how.location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            data = how.body if how.body is not None else target.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            if how.truncate_to is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            try:
                body = data if how.truncate_to is None else data[:how.truncate_to]
                step = 64 if how.drip else max(len(body), 1)
                for i in range(0, len(body), step):
                    self.wfile.write(body[i:i + step])
                    self.wfile.flush()
                    if how.drip and server.release.wait(how.drip):
                        break
            except (BrokenPipeError, ConnectionResetError):
                pass
            if how.truncate_to is not None:
                self.close_connection = True

    return Handler


@contextmanager
def serve(root: Path) -> Iterator[Server]:
    """Serve ``root`` on 127.0.0.1 (a free port) for the duration of the ``with`` block."""
    server = Server(Path(root))
    httpd = http.server.ThreadingHTTPServer((server.host, 0), _handler(server))
    httpd.daemon_threads = True
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
        time.sleep(0)  # let handler threads notice the closed sockets
