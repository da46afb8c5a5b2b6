"""Sampler and scorer plug-ins: the built-in models first, then other packages' entry points.

A package registers a *factory* under the entry-point group ``adhmr.samplers`` or
``adhmr.scorers``; the entry point's name is the model's name in ``--sampler`` /
``--scorer`` and in the app's Settings. The factory is called as

    factory(checkpoint: str | None, body: BodyModel, device: str) -> Sampler | Scorer

(checkpoint: whatever the user gave, or None for the model's default weights) and must
return an object satisfying :class:`engine.models.protocols.Sampler` or
:class:`~engine.models.protocols.Scorer`. In the package's ``pyproject.toml``::

    [project.entry-points."adhmr.samplers"]
    mymodel = "my_package.adhmr:load_sampler"

The built-in DiffusionHMR and HMR-Scorer are registered here under
:data:`BUILTIN_SAMPLER` and :data:`BUILTIN_SCORER`; a plug-in cannot replace them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, TypeVar

from engine.errors import AdhmrError, PluginError

if TYPE_CHECKING:  # torch loads only when a model does: `adhmr --help` stays fast
    from engine.body.model import BodyModel
    from engine.models.protocols import Sampler, Scorer

log = logging.getLogger(__name__)

SAMPLER_GROUP = "adhmr.samplers"
SCORER_GROUP = "adhmr.scorers"
BUILTIN_SAMPLER = "diffusion-hmr"
BUILTIN_SCORER = "hmr-scorer"

T = TypeVar("T")


def _builtin_sampler(checkpoint: str | None, body: BodyModel, device: str) -> Sampler:
    from engine.models.diffusion_hmr import DiffusionHMR

    return DiffusionHMR.load(checkpoint, body=body, device=device)


def _builtin_scorer(checkpoint: str | None, body: BodyModel, device: str) -> Scorer:
    from engine.models.scorer import HMRScorer

    return HMRScorer.load(checkpoint, body=body, device=device)


def _names(group: str, builtin: str) -> list[str]:
    found = sorted({ep.name for ep in entry_points(group=group)} - {builtin})
    return [builtin, *found]


def sampler_names() -> list[str]:
    """The built-in sampler's name, then every installed plug-in's, sorted."""
    return _names(SAMPLER_GROUP, BUILTIN_SAMPLER)


def scorer_names() -> list[str]:
    """The built-in scorer's name, then every installed plug-in's, sorted."""
    return _names(SCORER_GROUP, BUILTIN_SCORER)


def _factory(group: str, name: str, builtin: str, builtin_factory: Callable[..., T]) -> Callable[..., T]:
    if name == builtin:
        return builtin_factory
    matches = [ep for ep in entry_points(group=group) if ep.name == name]
    if not matches:
        known = ", ".join(_names(group, builtin))
        raise PluginError(f"no {group} plug-in named {name!r} (installed: {known})")
    try:
        factory = matches[0].load()
    except Exception as exc:  # noqa: BLE001 - a third-party import can raise anything
        raise PluginError(f"{group} plug-in {name!r} ({matches[0].value}) failed to import: {exc}") from None
    if not callable(factory):
        raise PluginError(f"{group} plug-in {name!r} ({matches[0].value}) is not callable")
    return factory


def _build(group: str, name: str, factory: Callable[..., T], checkpoint: str | None, body: BodyModel,
           device: str) -> T:
    from engine.models.protocols import Sampler, Scorer

    protocol = Sampler if group == SAMPLER_GROUP else Scorer
    try:
        model = factory(checkpoint, body, device)
    except AdhmrError:
        raise
    except Exception as exc:  # noqa: BLE001 - a third-party model can raise anything
        raise PluginError(f"{group} plug-in {name!r} failed to load: {type(exc).__name__}: {exc}") from None
    if not isinstance(model, protocol):
        raise PluginError(f"{group} plug-in {name!r} returned a {type(model).__name__}, not a {protocol.__name__}")
    log.info("loaded %s %r (%s)", group, name, type(model).__name__)
    return model


def load_sampler(name: str, checkpoint: str | None, body: BodyModel, device: str) -> Sampler:
    """The sampler called ``name`` (see :func:`sampler_names`) with ``checkpoint``'s weights.

    Raises PluginError (unknown, broken or not a Sampler) or the model's own errors
    (CheckpointError, ...)."""
    factory = _factory(SAMPLER_GROUP, name, BUILTIN_SAMPLER, _builtin_sampler)
    return _build(SAMPLER_GROUP, name, factory, checkpoint, body, device)


def load_scorer(name: str, checkpoint: str | None, body: BodyModel, device: str) -> Scorer:
    """The scorer called ``name`` (see :func:`scorer_names`) with ``checkpoint``'s weights."""
    factory = _factory(SCORER_GROUP, name, BUILTIN_SCORER, _builtin_scorer)
    return _build(SCORER_GROUP, name, factory, checkpoint, body, device)
