"""The HTTP/JSON API over a real socket on 127.0.0.1: answers, 400s naming the parameter,
404, 405, an oversized request."""

from __future__ import annotations

import asyncio
import json

import pytest

from venue.gateways.history.backends import open_history
from venue.gateways.history.http import REQUEST_BYTES_MAX, HistoryHttpServer
from venue.gateways.history.queries import HistoryQueries

from .feed import ingest, scripted_feed


async def request(port: int, raw: bytes) -> tuple[int, dict]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    writer.write(raw)
    data = await asyncio.wait_for(reader.read(), 5)  # the server closes after one answer
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


def get(port: int, target: str) -> tuple[int, dict]:
    return asyncio.run(request(port, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))


@pytest.fixture
def server_port(tmp_path):
    database = open_history(tmp_path / "history.db")
    ingest(database, scripted_feed().rows, batch_entries=5)
    answers: dict = {}

    async def serve(started: asyncio.Event, stop: asyncio.Event) -> None:
        server = HistoryHttpServer(HistoryQueries(database), lambda: {"position": 18})
        answers["port"] = await server.start("127.0.0.1", 0)
        started.set()
        await stop.wait()
        await server.close()

    import threading

    loop = asyncio.new_event_loop()
    started, stop = asyncio.Event(), asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(started, stop),))
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(asyncio.wait_for(started.wait(), 5), loop).result(10)
        yield answers["port"]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
        database.close()


def test_trades_top_and_orders_answer_json(server_port):
    status, body = get(server_port, "/trades?instrument=BTC-USD&limit=2")
    assert status == 200
    assert [t["price"] for t in body["trades"]] == ["1000.50", "1000.50"]
    status, body = get(server_port, "/trades/top?instrument=BTC-USD&window_s=60&n=1")
    assert (status, [t["price"] for t in body["trades"]]) == (200, ["1002.00"])
    status, body = get(server_port, "/accounts/101/orders?limit=1")
    assert status == 200
    [order] = body["orders"]
    assert (order["client_order_id"], len(order["fills"])) == ("s2r", 1)
    assert get(server_port, "/status") == (200, {"position": 18})


def test_trades_in_an_iso_time_range(server_port):
    _, body = get(server_port, "/trades?instrument=BTC-USD")
    second = body["trades"][1]["time"]
    status, body = get(server_port, f"/trades?instrument=BTC-USD&from={second}")
    assert status == 200
    assert [t["trade_id"] for t in body["trades"]] == [2, 3]


@pytest.mark.parametrize(("target", "parameter"), [
    ("/trades?instrument=NOPE", "instrument"),
    ("/trades?instrument=BTC-USD&from=soon", "from"),
    ("/trades?instrument=BTC-USD&limit=-1", "limit"),
    ("/trades?instrument=BTC-USD&to=99999999999999999999", "to"),
    ("/trades/top?instrument=BTC-USD", "window_s"),
    ("/trades/top?instrument=BTC-USD&window_s=60&n=x", "n"),
    ("/accounts/x1/orders", "account"),
])
def test_a_bad_parameter_is_a_400_naming_it(server_port, target, parameter):
    status, body = get(server_port, target)
    assert (status, body["parameter"]) == (400, parameter)
    assert parameter in body["error"]


def test_unknown_paths_methods_and_oversized_requests(server_port):
    assert get(server_port, "/nothing")[0] == 404
    status, _ = asyncio.run(request(server_port, b"POST /trades HTTP/1.1\r\n\r\n"))
    assert status == 405
    status, _ = asyncio.run(request(server_port, b"NONSENSE\r\n\r\n"))
    assert status == 400
    huge = b"GET /trades?" + b"a" * (REQUEST_BYTES_MAX * 2) + b" HTTP/1.1\r\n\r\n"
    status, _ = asyncio.run(request(server_port, huge))
    assert status == 413
