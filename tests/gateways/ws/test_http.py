"""Plain HTTP on the WebSocket port: static files under the static folder only."""

from __future__ import annotations

from pathlib import Path

from venue.gateways.ws.http import static_file


def test_static_files_are_found_under_the_root_and_index_html_is_the_root(
        tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>venue</h1>")
    (tmp_path / "app.js").write_text("1")
    assert static_file("/", tmp_path) == (tmp_path / "index.html").resolve()
    assert static_file("/app.js?v=2", tmp_path) == (tmp_path / "app.js").resolve()
    assert static_file("/missing.css", tmp_path) is None


def test_a_path_outside_the_root_is_never_served(tmp_path: Path) -> None:
    root = tmp_path / "static"
    root.mkdir()
    (tmp_path / "secret.json").write_text("{}")
    assert static_file("/../secret.json", root) is None
    assert static_file("/%2e%2e/secret.json", root) is None
    assert static_file(str(tmp_path / "secret.json"), root) is None
