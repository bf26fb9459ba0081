"""A loopback stand-in for the Hugging Face Hub, for the Python tests.

It speaks the subset of the Hub's HTTP API that msign's Hub client uses, as the Rust
tests' fake Hub (tests/fakehub) does:

- `GET /api/models/{repo}/revision/{rev}`: the commit (`sha`) a branch, tag or commit
  names;
- `GET /api/models/{repo}/tree/{rev}?recursive=true`: the files, paginated with
  `Link: <...>; rel="next"`; an LFS file carries `"lfs": {"oid", "size", "pointerSize"}`
  (`oid` is the SHA-256 of the content, the entry's own `oid` the git blob id of the
  pointer);
- `GET /{repo}/resolve/{rev}/{path}`: a regular file with `X-Repo-Commit` and `ETag` (its
  git blob id); an LFS file as a 302 to a CDN on another port, with `X-Linked-Etag` (the
  SHA-256) and `X-Linked-Size`;
- 401 for a private repository without the token, 404s with `X-Error-Code`.

Both servers bind 127.0.0.1 only, on ports the system picks, and run in daemon threads
until `stop()`.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Optional

TOKEN = "hf_fakehub_python_token"


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class File:
    """A file in a commit: its content, and whether git stores it with LFS."""

    content: bytes
    lfs: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def pointer(self) -> bytes:
        return (
            "version https://git-lfs.github.com/spec/v1\n"
            f"oid sha256:{self.sha256}\nsize {len(self.content)}\n"
        ).encode()

    @property
    def blob_id(self) -> str:
        return git_blob_id(self.pointer() if self.lfs else self.content)


@dataclass
class Repo:
    commits: dict[str, dict[str, File]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    private: bool = False


class FakeHub:
    """The Hub on one loopback port and its CDN on another. `endpoint` is what
    `HF_ENDPOINT` takes; `log` lists `(server, path)` of every request."""

    def __init__(self, page_size: int = 3) -> None:
        self.repos: dict[str, Repo] = {}
        self.page_size = page_size
        # Seconds every answer waits before it is sent (a slow network).
        self.delay = 0.0
        self.log: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._commits = 0
        self._hub = self._server(self._hub_get)
        self._cdn = self._server(self._cdn_get)
        self.endpoint = f"http://127.0.0.1:{self._hub.server_address[1]}"
        self._cdn_base = f"http://127.0.0.1:{self._cdn.server_address[1]}"

    def _server(self, get) -> http.server.ThreadingHTTPServer:
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the http.server hook
                time.sleep(hub.delay)
                status, headers, body = get(self)
                with hub._lock:
                    hub.log.append(("hub" if get == hub._hub_get else "cdn", self.path))
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def stop(self) -> None:
        for s in (self._hub, self._cdn):
            s.shutdown()
            s.server_close()

    def publish(self, repo: str, files: dict[str, File], branch: str = "main") -> str:
        """Commits `files` to `repo` on `branch`; returns the commit id."""
        with self._lock:
            self._commits += 1
            h = hashlib.sha1(f"commit {self._commits}\n".encode())
            for p in sorted(files):
                h.update(f"{files[p].blob_id} {p}\n".encode())
            commit = h.hexdigest()
            r = self.repos.setdefault(repo, Repo())
            r.commits[commit] = dict(files)
            r.refs[branch] = commit
            return commit

    def cdn_requests(self) -> list[str]:
        with self._lock:
            return [p for s, p in self.log if s == "cdn"]

    # --- the Hub ---

    @staticmethod
    def _error(status: int, code: str, message: str):
        body = json.dumps({"error": message}).encode()
        return (
            status,
            [
                ("X-Error-Code", code),
                ("X-Error-Message", message),
                ("Content-Type", "application/json"),
            ],
            body,
        )

    def _repo(self, req, repo_id: str):
        r = self.repos.get(repo_id)
        authorized = req.headers.get("Authorization") == f"Bearer {TOKEN}"
        if r is not None and (not r.private or authorized):
            return r, None
        if not authorized:
            return None, self._error(401, "RepoNotFound", "Repository Not Found")
        return None, self._error(404, "RepoNotFound", "Repository not found")

    @staticmethod
    def _resolve(r: Repo, rev: str) -> Optional[str]:
        return rev if rev in r.commits else r.refs.get(rev)

    def _hub_get(self, req):
        url = urllib.parse.urlsplit(req.path)
        parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
        with self._lock:
            if parts[:2] == ["api", "models"] and len(parts) >= 6:
                repo_id = "/".join(parts[2:4])
                r, err = self._repo(req, repo_id)
                if err:
                    return err
                kind, rev = parts[4], "/".join(parts[5:])
                commit = self._resolve(r, rev)
                if commit is None:
                    return self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
                files = r.commits[commit]
                if kind == "revision":
                    info = {
                        "id": repo_id,
                        "modelId": repo_id,
                        "private": r.private,
                        "sha": commit,
                        "siblings": [{"rfilename": p} for p in sorted(files)],
                    }
                    return 200, [("Content-Type", "application/json")], json.dumps(info).encode()
                if kind == "tree":
                    return self._tree(repo_id, rev, files, url.query)
            elif len(parts) >= 5 and parts[2] == "resolve":
                repo_id = "/".join(parts[:2])
                r, err = self._repo(req, repo_id)
                if err:
                    return err
                rev, path = parts[3], "/".join(parts[4:])
                commit = self._resolve(r, rev)
                if commit is None:
                    return self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
                f = r.commits[commit].get(path)
                if f is None:
                    return self._error(404, "EntryNotFound", "Entry not found")
                if f.lfs:
                    return (
                        302,
                        [
                            ("Location", f"{self._cdn_base}/cdn/{f.sha256}?X-Amz-Signature=x"),
                            ("X-Repo-Commit", commit),
                            ("X-Linked-Etag", f'"{f.sha256}"'),
                            ("X-Linked-Size", str(len(f.content))),
                            ("ETag", f'"{f.blob_id}"'),
                        ],
                        b"",
                    )
                return 200, [("X-Repo-Commit", commit), ("ETag", f'"{f.blob_id}"')], f.content
        return self._error(404, "RepoNotFound", "Repository not found")

    def _tree(self, repo_id: str, rev: str, files: dict[str, File], query: str):
        dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
        entries = [
            (d, {"type": "directory", "oid": git_blob_id(d.encode()), "size": 0, "path": d})
            for d in dirs
        ]
        for p, f in files.items():
            e = {"type": "file", "oid": f.blob_id, "size": len(f.content), "path": p}
            if f.lfs:
                e["lfs"] = {
                    "oid": f.sha256,
                    "size": len(f.content),
                    "pointerSize": len(f.pointer()),
                }
            entries.append((p, e))
        entries.sort(key=lambda e: e[0])
        cursor = int(urllib.parse.parse_qs(query).get("cursor", ["0"])[0])
        page = [e for _, e in entries[cursor : cursor + self.page_size]]
        headers = [("Content-Type", "application/json")]
        if cursor + self.page_size < len(entries):
            nxt = (
                f"{self.endpoint}/api/models/{repo_id}/tree/{rev}"
                f"?recursive=true&expand=false&cursor={cursor + self.page_size}"
            )
            headers.append(("Link", f'<{nxt}>; rel="next"'))
        return 200, headers, json.dumps(page).encode()

    # --- the CDN: content by SHA-256 ---

    def _cdn_get(self, req):
        path = urllib.parse.urlsplit(req.path).path
        sha = path.removeprefix("/cdn/")
        with self._lock:
            for r in self.repos.values():
                for files in r.commits.values():
                    for f in files.values():
                        if f.lfs and f.sha256 == sha:
                            return self._range(req, f.content)
        return 404, [], b""

    @staticmethod
    def _range(req, content: bytes):
        rng = req.headers.get("Range", "")
        if rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start < len(content):
                return (
                    206,
                    [("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}")],
                    content[start:],
                )
        return 200, [], content
