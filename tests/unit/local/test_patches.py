"""One place patches moto and botocore: pinned moto only, every original recorded and put back."""

from __future__ import annotations

import re
import sys
import tomllib

import pytest

from mwaa_cp_local import patches
from mwaa_cp_local.patches import (
    PINNED_MOTO_VERSION,
    Patches,
    UnsupportedMotoError,
    require_pinned_moto,
)
from tests.conftest import REPO


def test_another_moto_version_is_refused_with_what_is_installed_what_is_required_and_what_to_do() -> None:
    with pytest.raises(UnsupportedMotoError) as refused:
        require_pinned_moto("5.1.9")

    message = str(refused.value)
    assert "moto 5.1.9 is installed" in message
    assert f"supports moto {PINNED_MOTO_VERSION} only" in message
    assert "pip install" in message


def test_the_pinned_version_is_accepted() -> None:
    require_pinned_moto(PINNED_MOTO_VERSION)


def test_the_pin_is_the_one_in_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    [moto] = [spec for spec in project["project"]["optional-dependencies"]["local"] if spec.startswith("moto")]

    assert re.search(r"==\s*([\w.]+)$", moto)[1] == PINNED_MOTO_VERSION  # type: ignore[index]


def test_patches_refuse_to_start_on_another_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patches, "installed_moto_version", lambda: "6.0.0")

    with pytest.raises(UnsupportedMotoError, match=r"moto 6\.0\.0 is installed"):
        Patches()


# ------------------------------------------------------------------------------- the mechanism


class Base:
    def greet(self) -> str:
        return "base"


class Child(Base):
    def name(self) -> str:
        return "child"


def test_a_replaced_attribute_is_the_original_object_again_after_undo() -> None:
    original = Child.name

    with Patches() as patched:
        patched.replace(Child, "name", lambda self: "patched", why="test")
        assert Child().name() == "patched"

    assert Child.name is original
    assert "name" in vars(Child)


def test_an_inherited_attribute_is_removed_again_rather_than_copied_onto_the_subclass() -> None:
    with Patches() as patched:
        patched.replace(Child, "greet", lambda self: "patched", why="test")
        assert Child().greet() == "patched"

    assert "greet" not in vars(Child)
    assert Child.greet is Base.greet


def test_a_wrapper_is_given_the_original() -> None:
    with Patches() as patched:
        patched.wrap(Child, "name", lambda original: lambda self: original(self).upper(), why="test")
        assert Child().name() == "CHILD"


def test_an_attribute_patched_twice_ends_as_it_began() -> None:
    original = Child.name

    with Patches() as patched:
        patched.replace(Child, "name", lambda self: "one", why="test")
        patched.replace(Child, "name", lambda self: "two", why="test")

    assert Child.name is original


def test_a_mapping_item_that_was_missing_is_removed_again() -> None:
    mapping: dict[str, object] = {"kept": 1}

    with Patches() as patched:
        patched.put(mapping, "added", 2, why="test")
        patched.put(mapping, "kept", 3, why="test")
        assert mapping == {"kept": 3, "added": 2}

    assert mapping == {"kept": 1}


def test_undo_is_complete_even_when_the_block_raises() -> None:
    original = Child.name

    def patch_then_fail() -> None:
        with Patches() as patched:
            patched.replace(Child, "name", lambda self: "patched", why="test")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        patch_then_fail()

    assert Child.name is original


def test_an_install_that_fails_half_way_undoes_what_it_did(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import backend_index

    from mwaa_cp_local.eventbridge import EventDelivery
    from mwaa_cp_local.faults import FaultInjector
    from mwaa_cp_local.lambda_dispatch import LambdaDispatcher

    def broken(patches: Patches, publish: object) -> None:
        raise RuntimeError("moto moved something")

    monkeypatch.setattr(patches, "install_stepfunctions", broken)
    url_patterns = backend_index.backend_url_patterns
    dispatcher = LambdaDispatcher(region="us-east-1", base_environment={})

    with pytest.raises(RuntimeError, match="moto moved"):
        patches.install(
            clock=None,
            dispatcher=dispatcher,
            delivery=EventDelivery(account_id="123456789012", region="us-east-1", dispatcher=dispatcher),
            injector=FaultInjector(),
        )

    assert backend_index.backend_url_patterns is url_patterns
    assert "moto.mwaa" not in sys.modules
