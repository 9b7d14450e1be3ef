"""The package as a plugin: found by entry point and by dotted path, its types join the
node's schema, and its source keeps the determinism rules."""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from venue_rfq import RFQ_COMMANDS, RFQ_EVENTS, RfqModule

from venue.codecs import Schema, SchemaError
from venue.engine import Engine, PluginLoadError, load_modules, resolve
from venue.engine.loader import ENTRY_POINT_GROUP, installed_module_names
from venue.engine.modules.counter import CounterModule

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "venue_rfq"


def test_the_entry_point_names_the_module_class() -> None:
    """Needs the package installed: ``pip install -e ./examples/rfq``."""
    assert "rfq" in installed_module_names()
    (entry_point,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "rfq"]
    assert entry_point.value == "venue_rfq.module:RfqModule"
    assert resolve("rfq") is RfqModule


@pytest.mark.parametrize("spec", ["venue_rfq.module:RfqModule", "venue_rfq.module.RfqModule",
                                  "venue_rfq:RfqModule"])
def test_a_dotted_path_names_the_module_class(spec: str) -> None:
    assert resolve(spec) is RfqModule


def test_load_modules_passes_the_node_config_options_as_keyword_arguments() -> None:
    (module,) = load_modules(["rfq"], {"rfq": {"rfqs_max": 3, "quotes_per_rfq_max": 4}})
    assert isinstance(module, RfqModule)
    assert (module.rfqs_max, module.quotes_per_rfq_max) == (3, 4)


def test_a_bad_option_is_a_load_error_that_names_the_module() -> None:
    with pytest.raises(PluginLoadError, match=r"'rfq'.*rfqs_max"):
        load_modules(["rfq"], {"rfq": {"rfqs_max": 0}})


def test_the_module_runs_next_to_other_modules_and_its_types_join_the_schema() -> None:
    engine = Engine([CounterModule(), RfqModule()])
    for command_type in RFQ_COMMANDS:
        assert engine.schema.commands[command_type.__struct_config__.tag] is command_type
    for event_type in RFQ_EVENTS:
        assert engine.schema.events[event_type.__struct_config__.tag] is event_type


def test_tags_are_permanent_plugin_tags_that_no_two_types_share() -> None:
    for types in (RFQ_COMMANDS, RFQ_EVENTS):
        tags = [cls.__struct_config__.tag for cls in types]
        assert all(isinstance(tag, int) and tag >= 1000 for tag in tags)
        assert len(dict.fromkeys(tags)) == len(tags)
    Schema(commands=RFQ_COMMANDS, events=RFQ_EVENTS)  # raises SchemaError on any problem


def test_a_second_plugin_claiming_a_tag_is_a_start_up_error() -> None:
    from venue.codecs import Event

    class Impostor(Event, tag=RFQ_EVENTS[0].__struct_config__.tag):
        pass

    with pytest.raises(SchemaError, match="claimed by both"):
        Schema(events=[*RFQ_EVENTS, Impostor])


# -- the determinism rules, checked on the source --------------------------------------------

FORBIDDEN_IMPORTS = ("time", "datetime", "random", "uuid", "os", "socket", "threading",
                     "asyncio", "secrets", "multiprocessing", "concurrent")
FORBIDDEN_CALLS = ("hash", "id", "set", "frozenset", "float", "open", "input", "print")


def _determinism_problems(path: Path) -> list[str]:
    problems = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            problems += [f"{where} imports {name}" for name in names
                         if name.split(".")[0] in FORBIDDEN_IMPORTS]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in FORBIDDEN_CALLS:
            problems.append(f"{where} calls {node.func.id}()")
        elif isinstance(node, ast.Constant) and isinstance(node.value, float):
            problems.append(f"{where} has a float literal")
        elif isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.Div):
            problems.append(f"{where} divides with / (floats): use //")
        elif isinstance(node, ast.Set | ast.SetComp):
            problems.append(f"{where} builds a set: iteration order varies, use a dict")
    return problems


def test_the_module_source_keeps_the_determinism_rules() -> None:
    sources = sorted(PACKAGE_DIR.glob("*.py"))
    assert [path.name for path in sources] == ["__init__.py", "commands.py", "events.py",
                                               "module.py"]
    problems = [problem for path in sources for problem in _determinism_problems(path)]
    assert problems == []


def test_the_determinism_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import time\nfrom os import path\nx = hash('a') + 1.5\ny = 3 / 2\n"
                   "z = {1, 2}\n")
    assert sorted(problem.split(" ", 1)[1] for problem in _determinism_problems(bad)) == [
        "builds a set: iteration order varies, use a dict", "calls hash()",
        "divides with / (floats): use //", "has a float literal", "imports os", "imports time"]
