"""A local stand-in for the Hugging Face Hub API: the endpoints ``huggingface_hub`` calls to create
a repo and a branch, commit files (preupload + NDJSON commit, regular files only), read repo info,
list the tree and resolve (download) files. Repos live in memory, one git-like history per branch.

Point ``huggingface_hub`` at it with ``HF_ENDPOINT`` (a subprocess) or ``endpoint=`` (the API).
Status codes and ``X-Error-Code`` headers are the Hub's, so the library raises its own errors
(``RepositoryNotFoundError``, ``RevisionNotFoundError``, ...). Private repos answer 401
RepoNotFound to a caller without a token that may read them, as the Hub does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}


def git_blob_oid(data: bytes) -> str:
    """The git object id of a file, which the Hub reports as a regular file's oid and etag."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Commit:
    oid: str
    files: dict[str, bytes]
    message: str
    parent: str | None


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        oid = self.branches.get(revision, revision)
        return self.commits.get(oid)


@dataclass
class Token:
    user: str
    write: bool = True
    namespaces: tuple[str, ...] = ()  # where it may create and commit, besides the user's own


class FakeHub:
    """``with FakeHub(tokens) as hub:`` serves on 127.0.0.1 at ``hub.url`` until the block ends."""

    def __init__(self, tokens: dict[str, Token] | None = None) -> None:
        self.tokens = tokens or {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request served
        self.lock = threading.Lock()
        self._server: _Server | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        hub = self

        class Handler(_Handler):
            fake = hub

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- what tests read -------------------------------------------------------------------------
    def files(self, repo_id: str, repo_type: str = "dataset", revision: str = "main") -> dict[str, bytes]:
        commit = self.repos[(repo_type, repo_id)].resolve(revision)
        assert commit is not None, revision
        return dict(commit.files)

    def n_commits(self, repo_id: str, repo_type: str = "dataset") -> int:
        return len(self.repos[(repo_type, repo_id)].commits)

    # -- repo operations -------------------------------------------------------------------------
    def create(self, repo_type: str, repo_id: str, private: bool) -> Repo:
        repo = Repo(repo_type, repo_id, private)
        # The Hub starts every repo with a .gitattributes commit.
        self.commit(repo, "main", {".gitattributes": b"*.bin filter=lfs diff=lfs merge=lfs -text\n"}, set(),
                    "initial commit", None)
        self.repos[(repo_type, repo_id)] = repo
        return repo

    @staticmethod
    def commit(repo: Repo, branch: str, added: dict[str, bytes], deleted: set[str], message: str,
               parent: str | None) -> Commit:
        base = repo.commits[parent].files if parent else {}
        files = {p: d for p, d in base.items() if p not in deleted}
        files.update(added)
        oid = hashlib.sha1(json.dumps([parent, message, sorted((p, git_blob_oid(d)) for p, d in files.items())]
                                      ).encode()).hexdigest()
        commit = Commit(oid, files, message, parent)
        repo.commits[oid] = commit
        repo.branches[branch] = oid
        return commit


class _Server(ThreadingHTTPServer):
    # Its own serving loop: tests that stub ThreadingHTTPServer.serve_forever (so that no site
    # preview starts) must not stop the stand-in for the Hub.
    serve_forever = socketserver.BaseServer.serve_forever
    daemon_threads = True


class _HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra


_REPO = r"(?P<type>models|datasets|spaces)/(?P<repo>[^/]+/[^/]+)"


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    # -- plumbing --------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path, query = unquote(url.path), parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.fake.lock:
            self.fake.requests.append((method, path))
        routes = [
            ("POST", r"/api/repos/create", self._create_repo),
            ("POST", r"/api/validate-yaml", self._validate_yaml),
            ("POST", rf"/api/{_REPO}/preupload/(?P<rev>.+)", self._preupload),
            ("POST", rf"/api/{_REPO}/commit/(?P<rev>.+)", self._commit),
            ("POST", rf"/api/{_REPO}/branch/(?P<rev>.+)", self._create_branch),
            ("POST", rf"/api/{_REPO}/paths-info/(?P<rev>[^/]+)", self._paths_info),
            ("GET", rf"/api/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?", self._tree),
            ("GET", rf"/api/{_REPO}(?:/revision/(?P<rev>.+))?", self._repo_info),
            ("GET", r"/api/whoami-v2", self._whoami),
            ("HEAD", rf"/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)", self._resolve),
            ("GET", rf"/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)", self._resolve),
        ]
        # Model repos have no type prefix in resolve URLs.
        if re.fullmatch(r"/[^/]+/[^/]+/resolve/.+", path) and not path.startswith(("/datasets/", "/spaces/")):
            path = "/models" + path
        for verb, pattern, handler in routes:
            m = re.fullmatch(pattern, path)
            if verb == method and m:
                try:
                    with self.fake.lock:
                        status, payload, headers = handler(m.groupdict(), query, body, method)
                except _HubError as err:
                    extra = {"X-Error-Code": err.code} if err.code else {}
                    self._send(
                        err.status,
                        {"error": err.message, **err.extra},
                        {"X-Error-Message": err.message, **extra},
                        method,
                    )
                    return
                self._send(status, payload, headers, method)
                return
        self._send(404, {"error": f"no route for {method} {path}"}, {}, method)

    def _send(self, status: int, payload: Any, headers: dict[str, str], method: str) -> None:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        if not isinstance(payload, bytes):
            self.send_header("Content-Type", "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(raw)

    # -- auth ------------------------------------------------------------------------------------
    def _token(self) -> Token | None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        token = self.fake.tokens.get(auth.removeprefix("Bearer ").strip())
        if token is None:
            raise _HubError(401, "Invalid credentials in Authorization header")
        return token

    def _may_write(self, repo_id: str) -> None:
        token = self._token()
        if token is None:
            raise _HubError(401, "You must be authenticated to write to this repo")
        namespace = repo_id.split("/")[0]
        if not token.write or namespace not in (token.user, *token.namespaces):
            raise _HubError(403, f"You don't have the rights to write to {repo_id}")

    def _repo(self, groups: dict[str, str], write: bool = False) -> Repo:
        repo = self.fake.repos.get((TYPES[groups["type"]], groups["repo"]))
        if write and repo is not None:
            self._may_write(groups["repo"])
        token = self._token()
        readable = repo is not None and (not repo.private or (token is not None and groups["repo"].split("/")[0]
                                                               in (token.user, *token.namespaces)))
        if repo is None or not readable:
            # Like the Hub: 401 to an anonymous caller, 404 to an authenticated one.
            raise _HubError(401 if token is None else 404, "Repository not found", "RepoNotFound")
        return repo

    def _commit_at(self, repo: Repo, rev: str) -> Commit:
        commit = repo.resolve(rev)
        if commit is None:
            raise _HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        return commit

    # -- endpoints -------------------------------------------------------------------------------
    def _create_repo(self, groups: dict[str, str], query: Any, body: bytes, method: str) -> tuple:
        payload = json.loads(body)
        repo_type = payload.get("type") or "model"
        repo_id = f"{payload['organization']}/{payload['name']}" if payload.get("organization") else None
        token = self._token()
        if token is None:
            raise _HubError(401, "You must be authenticated to create a repo")
        repo_id = repo_id or f"{token.user}/{payload['name']}"
        self._may_write(repo_id)
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"{self._base()}/{prefix}{repo_id}"
        if (repo_type, repo_id) in self.fake.repos:
            raise _HubError(409, f"You already created this {repo_type} repo", url=url)
        private = bool(payload.get("private")) or payload.get("visibility") == "private"
        self.fake.create(repo_type, repo_id, private)
        return 200, {"url": url, "name": repo_id, "id": repo_id}, {}

    def _base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    def _validate_yaml(self, groups: dict[str, str], query: Any, body: bytes, method: str) -> tuple:
        content = json.loads(body)["content"]
        m = re.match(r"^---\n(.*?)\n---\n", content, re.DOTALL)
        errors = []
        if m:
            try:
                meta = yaml.safe_load(m.group(1))
            except yaml.YAMLError as exc:
                meta, errors = None, [{"message": f"invalid YAML: {exc}"}]
            if meta is not None and not isinstance(meta, dict):
                errors.append({"message": "metadata must be a mapping"})
            elif isinstance(meta, dict):
                errors.extend(_card_errors(meta))
        if errors:
            return 400, {"errors": errors}, {}
        return 200, {"warnings": []}, {}

    def _preupload(self, groups: dict[str, str], query: Any, body: bytes, method: str) -> tuple:
        repo = self._repo(groups, write=True)
        commit = self._commit_at(repo, groups["rev"])
        files = []
        for f in json.loads(body)["files"]:
            old = commit.files.get(f["path"])
            files.append({"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                          "oid": git_blob_oid(old) if old is not None else None})
        return 200, {"files": files, "commitOid": commit.oid}, {}

    def _commit(self, groups: dict[str, str], query: Any, body: bytes, method: str) -> tuple:
        repo = self._repo(groups, write=True)
        rev = groups["rev"]
        if rev not in repo.branches:
            raise _HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = lines[0]
        assert header["key"] == "header", header
        added: dict[str, bytes] = {}
        deleted: set[str] = set()
        parent = repo.branches[rev]
        expected = header["value"].get("parentCommit")
        if expected and not parent.startswith(expected):
            raise _HubError(412, "A commit has happened since. Please refresh and try again.")
        current = repo.commits[parent].files
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            if key == "file":
                assert value["encoding"] == "base64"
                added[value["path"]] = base64.b64decode(value["content"])
            elif key == "deletedFile":
                if value["path"] not in current:
                    raise _HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                deleted.add(value["path"])
            elif key == "deletedFolder":
                folder = value["path"].rstrip("/") + "/"
                deleted.update(p for p in current if p.startswith(folder))
            else:  # lfsFile: this stand-in never asks for LFS uploads
                raise _HubError(422, f"unsupported commit operation {key}")
        commit = self.fake.commit(repo, rev, added, deleted, header["value"]["summary"], parent)
        prefix = "" if repo.repo_type == "model" else f"{repo.repo_type}s/"
        return 200, {"commitUrl": f"{self._base()}/{prefix}{repo.repo_id}/commit/{commit.oid}",
                     "commitOid": commit.oid, "pullRequestUrl": None}, {}

    def _create_branch(self, groups: dict[str, str], query: Any, body: bytes, method: str) -> tuple:
        repo = self._repo(groups, write=True)
        branch = groups["rev"]
        if branch in repo.branches:
            raise _HubError(409, f"Reference already exists: refs/heads/{branch}")
        start = (json.loads(body) if body else {}).get("startingPoint") or "main"
        repo.branches[branch] = self._commit_at(repo, start).oid
        return 200, {}, {}

    def _repo_info(self, groups: dict[str, str], query: Any, body: bytes, method: str) -> tuple:
        repo = self._repo(groups)
        commit = self._commit_at(repo, groups.get("rev") or "main")
        return 200, {"id": repo.repo_id, "sha": commit.oid, "private": repo.private,
                     "siblings": [{"rfilename": p} for p in sorted(commit.files)]}, {}

    def _entries(self, commit: Commit, paths: list[str] | None, prefix: str, recursive: bool) -> list[dict]:
        out: dict[str, dict] = {}
        for p, data in sorted(commit.files.items()):
            if paths is not None:
                if p in paths:
                    out[p] = {"type": "file", "path": p, "size": len(data), "oid": git_blob_oid(data)}
                continue
            if prefix and not p.startswith(prefix + "/"):
                continue
            rest = p[len(prefix) + 1:] if prefix else p
            if recursive or "/" not in rest:
                out[p] = {"type": "file", "path": p, "size": len(data), "oid": git_blob_oid(data)}
            parts = rest.split("/")[:-1]
            for i in range(1, len(parts) + 1 if recursive else min(1, len(parts)) + 1):
                folder = "/".join(filter(None, [prefix, *parts[:i]]))
                out.setdefault(folder, {"type": "directory", "path": folder,
                                        "oid": hashlib.sha1(folder.encode()).hexdigest()})
        if paths is None and prefix and not out:
            raise _HubError(404, f"{prefix} does not exist", "EntryNotFound")
        return list(out.values())

    def _tree(self, groups: dict[str, str], query: Any, body: bytes, method: str) -> tuple:
        repo = self._repo(groups)
        commit = self._commit_at(repo, groups["rev"])
        recursive = query.get("recursive", ["False"])[0].lower() in ("1", "true")
        return 200, self._entries(commit, None, (groups.get("path") or "").strip("/"), recursive), {}

    def _paths_info(self, groups: dict[str, str], query: Any, body: bytes, method: str) -> tuple:
        repo = self._repo(groups)
        commit = self._commit_at(repo, groups["rev"])
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            paths = json.loads(body).get("paths", [])
        else:
            paths = parse_qs(body.decode()).get("paths", [])
        return 200, self._entries(commit, list(paths), "", True), {}

    def _whoami(self, groups: dict[str, str], query: Any, body: bytes, method: str) -> tuple:
        token = self._token()
        if token is None:
            raise _HubError(401, "Invalid credentials in Authorization header")
        return 200, {"type": "user", "name": token.user, "orgs": [{"name": n} for n in token.namespaces],
                     "auth": {"accessToken": {"role": "write" if token.write else "read"}}}, {}

    def _resolve(self, groups: dict[str, str], query: Any, body: bytes, method: str) -> tuple:
        repo = self._repo(groups)
        commit = self._commit_at(repo, groups["rev"])
        data = commit.files.get(groups["path"])
        if data is None:
            raise _HubError(404, "Entry not found", "EntryNotFound")
        oid = git_blob_oid(data)
        return 200, data, {"X-Repo-Commit": commit.oid, "ETag": f'"{oid}"', "Content-Type": "application/octet-stream"}


_LICENSE = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")


def _card_errors(meta: dict[str, Any]) -> list[dict[str, str]]:
    """The checks the Hub makes that a generated card could fail: types of the common fields and
    the shape of ``configs`` (the dataset viewer reads them)."""
    errors = []
    lic = meta.get("license")
    if lic is not None and not (isinstance(lic, str) and _LICENSE.match(lic)) and not (
            isinstance(lic, list) and all(isinstance(x, str) and _LICENSE.match(x) for x in lic)):
        errors.append({"message": f'"license" must be a license identifier, got {lic!r}'})
    if lic == "other" and not meta.get("license_name"):
        errors.append({"message": '"license_name" is required when "license" is "other"'})
    if "pretty_name" in meta and not isinstance(meta["pretty_name"], str):
        errors.append({"message": '"pretty_name" must be a string'})
    tags = meta.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        errors.append({"message": '"tags" must be a list of strings'})
    configs = meta.get("configs")
    if configs is not None:
        if not isinstance(configs, list):
            errors.append({"message": '"configs" must be a list'})
        else:
            names = set()
            for c in configs:
                if not isinstance(c, dict) or not isinstance(c.get("config_name"), str):
                    errors.append({"message": '"configs[].config_name" must be a string'})
                    continue
                if c["config_name"] in names:
                    errors.append({"message": f"duplicate config_name {c['config_name']}"})
                names.add(c["config_name"])
                files = c.get("data_files")
                if not isinstance(files, (str, list)):
                    errors.append({"message": f"configs[{c['config_name']}].data_files must be a string or list"})
                for f in files if isinstance(files, list) else []:
                    if isinstance(f, dict) and not re.fullmatch(r"\w+(\.\w+)*", str(f.get("split", ""))):
                        errors.append({"message": f"split name {f.get('split')!r} must match \\w+(\\.\\w+)*"})
    return errors
