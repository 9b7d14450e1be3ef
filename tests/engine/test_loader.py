"""Loading modules by spec; every failure is a PluginLoadError that names the spec."""

from __future__ import annotations

import pytest

from venue.engine import PluginLoadError, load_modules, resolve
from venue.engine.loader import installed_module_names
from venue.engine.modules.counter import CounterModule

COUNTER = "venue.engine.modules.counter:CounterModule"


@pytest.mark.parametrize("spec", [COUNTER, "venue.engine.modules.counter.CounterModule"])
def test_colon_and_dotted_specs_resolve_to_the_class(spec: str) -> None:
    assert resolve(spec) is CounterModule


def test_load_modules_instantiates_each_spec_with_its_options() -> None:
    class_spec = "tests.engine.helpers:ExplodingModule"
    counter, exploder = load_modules([COUNTER, class_spec],
                                     {class_spec: {"fail_on_session": 7}})
    assert isinstance(counter, CounterModule)
    assert exploder.fail_on_session == 7
    assert exploder is not load_modules([class_spec])[0], "a fresh instance each time"


@pytest.mark.parametrize(("spec", "message"), [
    ("venue.engine.modules.no_such_thing:Module",
     r"cannot import 'venue.engine.modules.no_such_thing' for module spec "
     r"'venue.engine.modules.no_such_thing:Module': ModuleNotFoundError"),
    ("venue.engine.modules.counter:NoSuchClass",
     r"'venue.engine.modules.counter' has no attribute 'NoSuchClass' \(module spec "
     r"'venue.engine.modules.counter:NoSuchClass'\)"),
    ("tests.engine.helpers:NotAModule",
     r"'tests.engine.helpers:NotAModule' names <class 'tests.engine.helpers.NotAModule'>, "
     r"which is not a venue.engine.Module"),
    ("tests.engine.helpers.not_a_class",
     r"'tests.engine.helpers.not_a_class' names 42, which is not a venue.engine.Module"),
    ("no_dots_and_no_such_entry_point",
     r"module spec 'no_dots_and_no_such_entry_point' is neither 'package.module:ClassName' "
     r"nor the name of an installed 'venue.modules' entry point"),
    (":CounterModule", r"module spec ':CounterModule' is neither"),
])
def test_a_spec_that_does_not_resolve_raises_plugin_load_error_naming_it(
        spec: str, message: str) -> None:
    with pytest.raises(PluginLoadError, match=message):
        resolve(spec)
    with pytest.raises(PluginLoadError, match=message):
        load_modules([COUNTER, spec])


def test_a_constructor_that_raises_is_a_plugin_load_error_naming_the_spec() -> None:
    spec = "tests.engine.helpers:BrokenConstructorModule"
    with pytest.raises(PluginLoadError,
                       match=r"'tests.engine.helpers:BrokenConstructorModule': constructing "
                             r"BrokenConstructorModule failed: ValueError: no config for "
                             r"broken") as caught:
        load_modules([spec])
    assert isinstance(caught.value.__cause__, ValueError)


def test_unexpected_options_are_a_plugin_load_error() -> None:
    with pytest.raises(PluginLoadError, match=r"constructing CounterModule failed: TypeError"):
        load_modules([COUNTER], {COUNTER: {"colour": "blue"}})


def test_installed_module_names_are_sorted() -> None:
    names = installed_module_names()
    assert names == sorted(names)
