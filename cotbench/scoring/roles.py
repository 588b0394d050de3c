"""Model roles that scorers look up at scoring time: the judge (Inspect's ``grader`` role).

The run binds its roles around the engine call (``cotbench.judge.session``); a scorer asks for
them when it scores. The binding is a ``ContextVar``, so it follows the code that scores: the
run's thread, Inspect's event loop (``asyncio.run`` and its tasks copy the context) and
``asyncio.to_thread`` workers; two runs in one process (threads, tests) never see each other's
judge. Nothing here is module-global mutable state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cotbench.models.handle import ModelHandle
    from cotbench.tasks.taskdef import TaskDef


@dataclass(frozen=True)
class Judge:
    """The grader of a run: its model handle and its identity.

    ``label``: the judge as the user named it (``scorer_mode`` is ``judge:<label>``). ``identity``:
    judge name, prompt version(s) and the model's identity in one key (task hashes). ``pick``:
    the judge scorer this judge uses for a task, or None to leave the task's own scorer.
    """

    handle: ModelHandle
    spec: str
    identity: str
    name: str = "rubric"
    label: str = ""
    model_identity: str = ""
    revision: str | None = None
    pick: Callable[[TaskDef], str | None] = field(default=lambda task: None, compare=False)

    @property
    def mode(self) -> str:
        return f"judge:{self.label or self.spec}"

    def provenance(self) -> dict[str, Any]:
        """Who graded, for each record's ``details["judge"]``."""
        out: dict[str, Any] = {"name": self.name, "spec": self.spec, "identity": self.identity}
        if self.model_identity:
            out["model_identity"] = self.model_identity
        if self.revision:
            out["revision"] = self.revision
        return out


@dataclass(frozen=True)
class Roles:
    grader: Judge | None = None


_ROLES: ContextVar[Roles | None] = ContextVar("cotbench_roles", default=None)


@contextlib.contextmanager
def using_roles(roles: Roles) -> Iterator[Roles]:
    """Bind ``roles`` for the code that runs inside the block (and what it starts with a copy
    of the context)."""
    token = _ROLES.set(roles)
    try:
        yield roles
    finally:
        _ROLES.reset(token)


def current_judge() -> Judge | None:
    roles = _ROLES.get()
    return roles.grader if roles else None


def effective_scorer(task: TaskDef) -> str:
    """The scorer a run uses for ``task``: the judge's scorer for it while a judge is bound."""
    judge = current_judge()
    return (judge.pick(task) if judge else None) or task.scorer
