"""The reference for ``bench_fix.py``: a QuickFIX acceptor (the C++ engine's Python
bindings, ``SocketAcceptor``: one thread for every session) whose ``fromApp`` answers each
NewOrderSingle with an ExecutionReport New at once. No cluster behind it: this is the floor
of a FIX engine's own cost in this language binding, not a venue.

Settings as a QuickFIX user would keep them in production: the FIX 4.4 data dictionary
validates every message (the same file venue's gateway loads), a FileStore keeps the
sessions' messages (not fsync'd per message), no message log. Binds 127.0.0.1 only; stops
on SIGTERM/SIGINT or after ``--lifetime-s``.

    python scripts/bench_fix_quickfix.py --port 9900 --sessions 4 --folder /tmp/qf
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import threading
from pathlib import Path

import quickfix as fix

SPEC = Path(__file__).resolve().parent.parent / "gateways" / "fix" / "spec" / "FIX44.xml"
SENDER_COMP_ID = "VENUE"
LIFETIME_S_MAX = 3600.0


def session_targets(sessions: int) -> list[str]:
    return [f"LOAD{index + 1}" for index in range(sessions)]


def settings_text(port: int, folder: Path, sessions: int) -> str:
    lines = ["[DEFAULT]", "ConnectionType=acceptor", f"SocketAcceptPort={port}",
             "SocketAcceptAddress=127.0.0.1", "SocketNodelay=Y", "StartTime=00:00:00",
             "EndTime=00:00:00", f"FileStorePath={folder / 'store'}", "UseDataDictionary=Y",
             f"DataDictionary={SPEC}", "ValidateUserDefinedFields=N", "CheckLatency=N",
             "BeginString=FIX.4.4", f"SenderCompID={SENDER_COMP_ID}"]
    for target in session_targets(sessions):
        lines += ["", "[SESSION]", f"TargetCompID={target}"]
    return "\n".join(lines) + "\n"


class EchoNew(fix.Application):
    """Answers every NewOrderSingle with ExecType 0 (New), OrdStatus 0, nothing filled."""

    def __init__(self) -> None:
        super().__init__()
        self.ids = itertools.count(1)
        self.answered = 0

    def onCreate(self, session_id) -> None: ...
    def onLogon(self, session_id) -> None: ...
    def onLogout(self, session_id) -> None: ...
    def toAdmin(self, message, session_id) -> None: ...
    def fromAdmin(self, message, session_id) -> None: ...
    def toApp(self, message, session_id) -> None: ...

    def fromApp(self, message, session_id) -> None:
        msg_type = fix.MsgType()
        message.getHeader().getField(msg_type)
        if msg_type.getValue() != fix.MsgType_NewOrderSingle:
            return
        number = next(self.ids)
        report = fix.Message()
        report.getHeader().setField(fix.MsgType(fix.MsgType_ExecutionReport))
        report.setField(fix.OrderID(f"Q{number}"))
        report.setField(fix.ExecID(f"QE{number}"))
        report.setField(fix.ExecType(fix.ExecType_NEW))
        report.setField(fix.OrdStatus(fix.OrdStatus_NEW))
        quantity = fix.OrderQty()
        for field in (fix.ClOrdID(), fix.Symbol(), fix.Side(), quantity, fix.OrdType(),
                      fix.Price()):
            message.getField(field)
            report.setField(field)
        report.setField(fix.LeavesQty(quantity.getValue()))
        report.setField(fix.CumQty(0))
        report.setField(fix.AvgPx(0))
        fix.Session.sendToTarget(report, session_id)
        self.answered += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--lifetime-s", type=float, default=900.0)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    path = args.folder / "acceptor.cfg"
    path.write_text(settings_text(args.port, args.folder, args.sessions))
    application = EchoNew()
    settings = fix.SessionSettings(str(path))
    acceptor = fix.SocketAcceptor(application, fix.FileStoreFactory(settings), settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    acceptor.start()
    print(f"quickfix acceptor on 127.0.0.1:{args.port}, {args.sessions} sessions", flush=True)
    stop.wait(min(args.lifetime_s, LIFETIME_S_MAX))
    print(f"quickfix acceptor: {application.answered} reports sent", flush=True)
    # acceptor.stop() joins QuickFIX's socket thread while this thread holds the GIL that
    # thread's next callback needs (it hangs): end the process, the kernel closes sockets
    os._exit(0)


if __name__ == "__main__":
    main()
