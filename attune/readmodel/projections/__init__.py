"""The read models, one module each. `ALL` is what the projector runs."""

from attune.readmodel.projection import Projection
from attune.readmodel.projections.executions import ExecutionsProjection
from attune.readmodel.projections.identities import IdentitiesProjection
from attune.readmodel.projections.packs import PacksProjection

ALL: tuple[Projection, ...] = (IdentitiesProjection(), PacksProjection(), ExecutionsProjection())


def by_name(name: str) -> Projection:
    for projection in ALL:
        if projection.name == name:
            return projection
    known = ", ".join(p.name for p in ALL)
    raise KeyError(f"unknown projection {name!r} (known: {known})")
