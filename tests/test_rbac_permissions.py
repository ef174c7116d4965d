"""The pure RBAC decision and the sealing keyring, without servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from attune.domain import key
from attune.domain.permission import Constraints, Grant, Target, permits, unrestricted
from attune.errors import BadRequestError, NotFoundError
from attune.errors import ValidationError as AttuneValidationError
from attune.security.crypto import Sealer, is_sealed, sealed_key_id


def grant(resource: str, *actions: str, **constraints: object) -> Grant:
    return Grant(resource=resource, actions=list(actions),
                 constraints=Constraints.model_validate(constraints) if constraints else None)


def test_grants_are_ored_and_manage_includes_all_but_decrypt() -> None:
    grants = [grant("packs", "read"), grant("keys", "manage")]
    assert permits(grants, "packs", "read", login="u")
    assert not permits(grants, "packs", "create", login="u")
    assert permits(grants, "keys", "delete", login="u")
    assert not permits(grants, "keys", "decrypt", login="u")
    assert permits([grant("*", "*")], "audit_log", "decrypt", login="u")
    assert not permits([], "packs", "read", login="u")


def test_constraints_must_all_match_the_target() -> None:
    g = [grant("actions", "execute", pack_refs=["demo", "ops_*"], refs=["*.deploy*"])]
    assert permits(g, "actions", "execute", login="u")  # some object: the route check
    assert permits(g, "actions", "execute", login="u",
                   target=Target(ref="demo.deploy_web", pack_ref="demo"))
    assert permits(g, "actions", "execute", login="u",
                   target=Target(ref="ops_eu.deploy", pack_ref="ops_eu"))
    assert not permits(g, "actions", "execute", login="u",
                       target=Target(ref="demo.echo", pack_ref="demo"))
    assert not permits(g, "actions", "execute", login="u",
                       target=Target(ref="core.deploy", pack_ref="core"))
    assert not unrestricted(g, "actions", "execute")
    assert unrestricted([grant("actions", "read")], "actions", "read")


def test_owner_self_by_login_or_id() -> None:
    g = [grant("executions", "read", owner="self")]
    assert permits(g, "executions", "read", login="ann", target=Target(owner="ann"))
    assert not permits(g, "executions", "read", login="ann", target=Target(owner="bob"))
    assert permits(g, "executions", "read", login="ann", identity_id=7,
                   target=Target(owner_id=7))
    assert not permits(g, "executions", "read", login="ann", identity_id=7,
                       target=Target(owner_id=8))
    assert not permits(g, "executions", "read", login="ann", identity_id=7,
                       target=Target(ref="x.y"))


def test_unknown_resources_and_actions_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown resource"):
        Grant(resource="spaceships", actions=["read"])
    with pytest.raises(ValidationError, match="unknown action"):
        Grant(resource="packs", actions=["fly"])
    with pytest.raises(ValidationError):
        Grant(resource="packs", actions=[])


def test_key_refs() -> None:
    assert key.parse_ref("system.db").ref == "system.db"
    parsed = key.parse_ref("identity.john.doe.token")
    assert (parsed.owner_type, parsed.owner, parsed.name) == ("identity", "john.doe", "token")
    assert key.parse_ref("action.core.echo.api_key").pack_ref == "core"
    assert key.parse_ref("pack.slack.token").pack_ref == "slack"
    assert key.build_ref("sensor", "github.watch", "secret").ref == \
        "sensor.github.watch.secret"
    for bad in ("galaxy.a.b", "system.", "pack.x", "action.noref.k", "system.UPPER",
                "identity..x"):
        with pytest.raises(AttuneValidationError):
            key.parse_ref(bad)
    with pytest.raises(AttuneValidationError, match="no owner"):
        key.build_ref("system", "someone", "x")


def test_keystore_lookup_opens_and_honours_ttl() -> None:
    sealer = Sealer("k" * 40)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    keys = {
        "system.a": key.StoredKey("system.a", "system", "", "a", True, sealer.seal({"x": 1}),
                                  None),
        "system.b": key.StoredKey("system.b", "system", "", "b", False, "plain", None),
        "system.c": key.StoredKey("system.c", "system", "", "c", False, "old",
                                  now - timedelta(seconds=1)),
    }
    assert key.lookup(keys, "system.a", now, sealer.open) == {"x": 1}
    assert key.lookup(keys, "system.b", now, sealer.open) == "plain"
    for missing in ("system.c", "system.d"):
        with pytest.raises(NotFoundError):
            key.lookup(keys, missing, now, sealer.open)


def test_keyring_opens_old_values_and_reseals_under_the_current_key() -> None:
    old, new = Sealer("old-" * 10), Sealer("new-" * 10, ["old-" * 10])
    sealed = old.seal("secret")
    assert is_sealed(sealed) and sealed_key_id(sealed) == old.key_id
    assert b"secret" not in repr(sealed).encode()
    assert new.open(sealed) == "secret"
    resealed = new.reseal(sealed)
    assert resealed is not None and sealed_key_id(resealed) == new.key_id
    assert new.reseal(resealed) is None
    assert Sealer("new-" * 10).open(resealed) == "secret"
    with pytest.raises(BadRequestError, match="ATTUNE_PREVIOUS_ENCRYPTION_KEYS"):
        Sealer("new-" * 10).open(sealed)
    # two seals of one value differ (random nonce)
    assert new.seal("secret") != new.seal("secret")


def test_keystore_namespace_lookup_gives_none_for_missing_keys() -> None:
    sealer = Sealer("k" * 40)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    keys = {"system.a": key.StoredKey("system.a", "system", "", "a", True,
                                      sealer.seal("v"), None)}
    find = key.keystore(keys, now, sealer.open)
    assert find("system.a") == "v"
    assert find("system.b") is None


def test_the_object_a_request_names() -> None:
    from attune.api.models import ExecuteRequest, RefPath
    from attune.api.row_access import item_target, request_target

    ref = RefPath(ref="demo.deploy")
    assert request_target("actions", "read", "/api/v1/actions/{ref}", ref, None) == \
        Target(ref="demo.deploy", pack_ref="demo")
    assert request_target("packs", "read", "/api/v1/packs/{ref}", RefPath(ref="demo"),
                          None) == Target(ref="demo", pack_ref="demo")
    # a parent in the path is not the object: the list's items are checked instead
    assert request_target("rules", "read", "/api/v1/actions/{ref}/rules", ref, None) is None
    run = ExecuteRequest.model_validate({"action_ref": "ops.restart"})
    assert request_target("actions", "execute", "/api/v1/executions/execute", None, run) \
        == Target(ref="ops.restart", pack_ref="ops")
    assert item_target("executions", {"action_ref": "ops.restart", "requested_by": 3}) == \
        Target(ref="ops.restart", pack_ref="ops", owner_id=3)
    assert item_target("workers", {"name": "w1"}) is None
