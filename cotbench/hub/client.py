"""Talking to the Hub: repo ids, tokens, the ``HfApi`` client, and the library's errors turned
into one line naming the repo (``HubError``).

``huggingface_hub`` reads ``HF_ENDPOINT``, ``HF_TOKEN`` and ``HF_HUB_OFFLINE`` itself; the
functions here take an ``endpoint`` too, for a caller (a test) that points one call elsewhere.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from cotbench.errors import CotbenchError, printable

REPO_TYPE = "dataset"
DEFAULT_BRANCH = "main"
_CONNECTION_ERRORS = {"ConnectError", "ConnectTimeout", "ConnectionError", "TimeoutException", "ReadTimeout",
                      "NetworkError", "RemoteProtocolError", "ProxyError", "Timeout", "ConnectTimeoutError"}


class HubError(CotbenchError):
    """The Hub (or the way to it) refused or failed a push or pull."""


def check_repo_id(repo_id: str, option: str = "--repo") -> str:
    """``namespace/name``, as the Hub spells dataset repos; the namespace is never implied."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
        valid = repo_id.count("/") == 1
    except HFValidationError:
        valid = False
    if not valid:
        raise CotbenchError(f"{option} '{printable(repo_id)}': expected a Hub dataset repo as namespace/name "
                            "(letters, digits, '-', '_', '.'), e.g. my-org/cotbench-results")
    return repo_id


def check_branch(branch: str, option: str = "--revision") -> str:
    """A branch name git (and so the Hub) accepts: a push creates it when it is missing."""
    bad = (not branch or branch.startswith(("-", "/", ".")) or branch.endswith(("/", ".", ".lock"))
           or ".." in branch or "//" in branch or "@{" in branch or branch == "@"
           or any(c.isspace() or c in "~^:?*[\\" or not c.isprintable() for c in branch))
    if bad:
        raise CotbenchError(f"{option} '{printable(branch)}' is not a branch name git accepts (no spaces, ~^:?*[\\, "
                            "'..', or a leading '-', '/' or '.')")
    return branch


def offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def check_online(repo_id: str, action: str) -> None:
    if offline():
        raise HubError(f"{action} {repo_id}: HF_HUB_OFFLINE is set; unset it (or set HF_HUB_OFFLINE=0) to reach "
                       "the Hub")


def resolve_token(token: str | None) -> str | None:
    """``token``, else ``HF_TOKEN``, else the token saved by ``hf auth login``."""
    if token is not None:
        if not token.strip():
            raise CotbenchError("--token is empty; leave it out to use HF_TOKEN or the saved login")
        if not all(33 <= ord(c) < 127 for c in token.strip()):
            raise CotbenchError("--token holds characters no Hub token has (spaces, control or non-ASCII characters)")
        return token.strip()
    from huggingface_hub import get_token

    return get_token()


def require_token(token: str | None, repo_id: str) -> str:
    found = resolve_token(token)
    if not found:
        raise HubError(f"pushing to {repo_id} needs a Hub token with write access: set HF_TOKEN, pass --token, "
                       "or run `hf auth login`")
    return found


def hub_api(token: str | None, endpoint: str | None = None) -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint, token=token, library_name="cotbench", library_version=_version())


def _version() -> str:
    from cotbench import __version__

    return __version__


def quiet_progress() -> None:
    """The library's progress bars only where a person watches (not in CI logs or pipes), and
    none of its info and warning lines (cotbench reports what happened itself)."""
    from huggingface_hub.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    if not sys.stderr.isatty():
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()


def _is_connection_error(exc: BaseException) -> bool:
    return any(c.__name__ in _CONNECTION_ERRORS for c in type(exc).__mro__)


def _endpoint(endpoint: str | None) -> str:
    from huggingface_hub import constants

    return endpoint or constants.ENDPOINT


@contextlib.contextmanager
def hub_errors(repo_id: str, action: str, revision: str | None = None, endpoint: str | None = None) -> Iterator[None]:
    """Every failure of the ``huggingface_hub`` calls inside as a ``HubError`` on one line that
    names ``repo_id``: no token, a token without access, no such repo or revision, no network."""
    from huggingface_hub import errors as hf

    where = f"{action} {repo_id}"
    try:
        yield
    except CotbenchError:
        raise
    except hf.OfflineModeIsEnabled:
        raise HubError(f"{where}: HF_HUB_OFFLINE is set; unset it (or set HF_HUB_OFFLINE=0) to reach the Hub") from None
    except hf.GatedRepoError:
        raise HubError(
            f"{where}: the repo is gated; accept its terms on the Hub with the account of the token"
        ) from None
    except hf.RevisionNotFoundError:
        raise HubError(f"{where}: --revision '{printable(revision or DEFAULT_BRANCH)}' not found in the repo") from None
    except hf.RepositoryNotFoundError:
        raise HubError(
            f"{where}: no such dataset repo on {_endpoint(endpoint)} (or it is private and the token "
            "cannot read it: set HF_TOKEN or pass --token)"
        ) from None
    except hf.LocalEntryNotFoundError as exc:
        # snapshot_download's answer when the Hub cannot be reached and nothing is cached
        cause = exc.__cause__ or exc.__context__
        reason = cause.__class__.__name__ if cause is not None else "unreachable"
        raise HubError(
            f"{where}: cannot reach the Hub at {_endpoint(endpoint)} ({reason}); check the network or HF_ENDPOINT"
        ) from None
    except hf.HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        detail = (getattr(exc, "server_message", None) or str(exc)).strip().splitlines()
        said = f": {printable(detail[0])}" if detail else ""
        if status == 401:
            raise HubError(f"{where}: the Hub rejected the token (401){said}; check HF_TOKEN or --token") from None
        if status == 403:
            raise HubError(
                f"{where}: the token may not write there (403){said}; use a write token of an account "
                f"with access to '{repo_id.split('/')[0]}'"
            ) from None
        raise HubError(f"{where}: the Hub answered {status}{said}") from None
    except ValueError as exc:
        # create_commit's check of README.md's metadata (the Hub's validate-yaml answer)
        text = " ".join(str(exc).split())
        if "metadata" in text.lower():
            raise HubError(f"{where}: the Hub rejected the dataset card's metadata ({printable(text)})") from None
        raise
    except Exception as exc:
        if _is_connection_error(exc):
            raise HubError(
                f"{where}: cannot reach the Hub at {_endpoint(endpoint)} ({exc.__class__.__name__}); "
                "check the network or HF_ENDPOINT"
            ) from None
        raise
