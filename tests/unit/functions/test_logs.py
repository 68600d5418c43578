from __future__ import annotations

import os
import socket
import threading
from multiprocessing.connection import Connection

from headwater.functions.logs import MAX_OUTPUT_BYTES, TAIL_BYTES, LogCapture, report_line
from headwater.functions.messages import Channel


def test_chunks_become_lines_and_a_partial_line_waits_for_the_end() -> None:
    lines: list[str] = []
    capture = LogCapture(lines.append)
    capture.feed(b"one\ntw")
    assert lines == ["one"]
    capture.feed(b"o\r\nthree")
    assert lines == ["one", "two"]
    capture.finish_output()
    assert lines == ["one", "two", "three"]
    assert capture.tail() == "one\ntwo\nthree\n"


def test_tail_keeps_only_the_last_4_kb() -> None:
    capture = LogCapture(lambda line: None)
    for i in range(1000):
        capture.emit(f"line {i:04d}")
    tail = capture.tail()
    assert len(tail.encode()) == TAIL_BYTES
    assert tail.endswith("line 0999\n")


def test_output_beyond_the_cap_is_dropped_with_a_note() -> None:
    lines: list[str] = []
    capture = LogCapture(lines.append)
    capture.feed((b"x" * 1023 + b"\n") * (MAX_OUTPUT_BYTES // 1024 + 10))
    capture.finish_output()
    capture.emit("END")
    assert len(lines) == MAX_OUTPUT_BYTES // 1024 + 2
    assert "output dropped" in lines[-2]
    assert lines[-1] == "END"


def test_report_line_is_tab_separated_with_init_duration_on_cold_start() -> None:
    line = report_line("r1", 1.234, 128, 40, 130.49)
    assert line.split("\t") == [
        "REPORT RequestId: r1",
        "Duration: 1.23 ms",
        "Billed Duration: 2 ms",
        "Memory Size: 128 MB",
        "Max Memory Used: 40 MB",
        "Init Duration: 130.49 ms",
    ]


def test_worker_channel_speaks_multiprocessing_connection_framing() -> None:
    left, right = socket.socketpair()
    parent = Connection(left.detach())
    child = Channel(right.detach())
    try:
        for size in (0, 5, 16384, 16385, 300_000):
            message = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
            # A socket buffer is smaller than the big messages: send from another thread.
            sender = threading.Thread(target=parent.send_bytes, args=(message,))
            sender.start()
            assert child.recv_bytes() == message
            sender.join()
            sender = threading.Thread(target=child.send_bytes, args=(message,))
            sender.start()
            assert parent.recv_bytes() == message
            sender.join()
    finally:
        parent.close()
        os.close(child.fileno())
