"""The real `bar-raiser` binary on loopback, for the fuzz and crash drivers.

Standard library only. A `Server` is one process on 127.0.0.1 with a port
the kernel picked (read back from its JSON log), a `Client` speaks JSON to
it. Nothing here talks to any other address.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

ADMIN_EMAIL = "ci-admin@example.com"
ADMIN_PASSWORD = "a long ci admin passphrase"


class ServerError(RuntimeError):
    pass


class Server:
    """One `bar-raiser serve` process; its log goes to `workdir`."""

    def __init__(self, binary: str, database_url: str, workdir: Path, extra_args=(), env=None):
        self.binary = binary
        self.database_url = database_url
        self.workdir = Path(workdir)
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"server-{self.starts}.log"

    @property
    def stdout_path(self) -> Path:
        return self.workdir / f"server-{self.starts}.out"

    def start(self, timeout: float = 120.0) -> "Server":
        self.starts += 1
        env = os.environ.copy()
        env.update(
            {
                "BAR_RAISER_DATABASE_URL": self.database_url,
                "BAR_RAISER_BIND": "127.0.0.1:0",
                "BAR_RAISER_ADMIN_EMAIL": ADMIN_EMAIL,
                "BAR_RAISER_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "BAR_RAISER_JWT_SECRET": "ci-only-secret-ci-only-secret-ci-only!",
                "BAR_RAISER_LOG": "warn,bar_raiser=info",
                "BAR_RAISER_LOG_FORMAT": "json",
                "BAR_RAISER_MAIL_DIR": str(self.workdir / "mail"),
                # No notification worker unless a test asks for one: a worker
                # would deliver webhooks (e.g. ones a fuzzer registered) off
                # this machine. Mail goes to files in `workdir` either way.
                "BAR_RAISER_NO_WORKER": "true",
                "BAR_RAISER_WORKERS": "2",
            }
        )
        env.update(self.env)
        with open(self.log_path, "wb") as log, open(self.stdout_path, "wb") as out:
            self.proc = subprocess.Popen(
                [self.binary, "serve", *self.extra_args],
                stdout=out,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.workdir,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            port = self._port_from_log()
            if port:
                self.port = port
                if self.client().status("GET", "/readyz") == 200:
                    return self
            time.sleep(0.1)
        self.kill()
        raise ServerError(f"server did not become ready in {timeout}s:\n{self.log_tail()}")

    def _port_from_log(self) -> int | None:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return None
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            address = event.get("address")
            if isinstance(address, str) and address.startswith("127.0.0.1:"):
                return int(address.rsplit(":", 1)[1])
        return None

    def client(self) -> "Client":
        assert self.port, "server not started"
        return Client("127.0.0.1", self.port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut of the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM, then the exit status (killed and an error if it hangs)."""
        assert self.proc
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ServerError(f"server ignored SIGTERM for {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stdout_text(self) -> str:
        try:
            return self.stdout_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


class Client:
    """JSON over one HTTP/1.1 connection per request (threads may share it)."""

    def __init__(self, host: str, port: int, timeout: float = 60.0):
        self.host, self.port, self.timeout = host, port, timeout

    def request(self, method, path, token=None, body=None, headers=None, timeout=None):
        """(status, parsed JSON body or text or None, response headers)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout or self.timeout)
        try:
            h = {"Accept": "application/json"}
            if token:
                h["Authorization"] = f"Bearer {token}"
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                h["Content-Type"] = "application/json"
            h.update(headers or {})
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            raw = resp.read()
            text = raw.decode("utf-8", errors="replace")
            try:
                value = json.loads(text) if text else None
            except ValueError:
                value = text
            return resp.status, value, dict(resp.getheaders())
        finally:
            conn.close()

    def status(self, method, path, token=None) -> int | None:
        try:
            return self.request(method, path, token=token, timeout=5)[0]
        except OSError:
            return None

    def call(self, method, path, token=None, body=None, expect=(200, 201, 204)):
        """Like `request`, but fails unless the status is one of `expect`."""
        status, value, _ = self.request(method, path, token=token, body=body)
        if status not in expect:
            raise AssertionError(f"{method} {path}: {status} {value}")
        return value

    def login(self, email: str, password: str) -> str:
        body = self.call("POST", "/api/v1/auth/login", body={"email": email, "password": password})
        return body["access_token"]


def evidence(tag: str) -> str:
    """Evidence long enough to seal."""
    return (
        f"{tag}: described a concrete situation, the actions they took personally, "
        "the trade-offs they weighed and the measurable result; follow-ups confirmed depth."
    )


def complete_draft(interview: dict, vote: str, tag: str) -> dict:
    return {
        "ratings": [
            {"competency_id": c["id"], "rating": 1 + n % 4, "evidence": evidence(f"{tag} {c['name']}")}
            for n, c in enumerate(interview["competencies"])
        ],
        "vote": vote,
        "summary": f"Summary: {tag}",
    }


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
