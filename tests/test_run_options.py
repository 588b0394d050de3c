"""The Python API's typed keywords stay in step with RunOptions."""

from __future__ import annotations

import dataclasses
import inspect
import typing

from cotbench.runner import RunOptions, RunOptionsKwargs, run_models


def test_run_models_keywords_cover_every_run_option_once() -> None:
    explicit = {n for n, p in inspect.signature(run_models).parameters.items() if p.kind is p.KEYWORD_ONLY}
    typed = set(RunOptionsKwargs.__annotations__)
    fields = {f.name for f in dataclasses.fields(RunOptions)}
    assert not explicit & typed
    assert (explicit | typed) & fields == fields
    assert typed <= fields


def test_typed_keywords_have_the_option_types() -> None:
    hints = typing.get_type_hints(RunOptions)
    for name, kind in typing.get_type_hints(RunOptionsKwargs).items():
        assert kind == hints[name], name
