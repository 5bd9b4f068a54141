"""A misbehaving camera, run as its own process: `python trickle_server.py MODE INTERVAL [JPEG]`.

Listens on a free 127.0.0.1 port, prints `ready PORT`, and answers every connection by MODE:
  body     a valid status line and headers at once, then the JPEG one byte per INTERVAL s
  status   the whole answer, status line first, one byte per INTERVAL s
  rtsp     an RTSP reply to OPTIONS, one byte per INTERVAL s
  tls      no HTTP at all: one byte per INTERVAL s of what could be a TLS ServerHello
  slow     each request answered whole but only after INTERVAL s: a Basic-auth challenge
           to a request without credentials, the JPEG to one with them
When a connection ends it prints `closed MODE sent=BYTES after=SECONDS`, so a test can see
that the client hung up, and when.

Standard library only; a process of its own, so its threads never count as the client's.
"""

from __future__ import annotations

import select
import socket
import sys
import threading
import time
from pathlib import Path


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def client_gone(conn: socket.socket, wait: float) -> bool:
    """Wait up to `wait` s; True if the client closed (or reset) the connection meanwhile."""
    readable, _, _ = select.select([conn], [], [], wait)
    if not readable:
        return False
    try:
        return conn.recv(4096) == b""
    except OSError:
        return True


def trickle(conn: socket.socket, data: bytes, interval: float) -> int:
    sent = 0
    for byte in data:
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return sent
        sent += 1
        if client_gone(conn, interval):
            return sent
    client_gone(conn, 3600)
    return sent


def http_answer(jpeg: bytes) -> tuple[bytes, bytes]:
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"
        f"Content-Length: {len(jpeg)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head, jpeg


def serve(conn: socket.socket, mode: str, interval: float, jpeg: bytes) -> None:
    started = time.monotonic()
    sent = 0
    try:
        if mode == "tls":
            sent = trickle(conn, b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03" * 10, interval)
            return
        request = read_request(conn)
        if mode == "body":
            head, body = http_answer(jpeg)
            conn.sendall(head)
            sent = len(head) + trickle(conn, body, interval)
        elif mode == "status":
            head, body = http_answer(jpeg)
            sent = trickle(conn, head + body, interval)
        elif mode == "rtsp":
            reply = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n"
            sent = trickle(conn, reply, interval)
        elif mode == "slow":
            while request:
                time.sleep(interval)
                if b"\r\nauthorization:" in request.lower():
                    head, body = http_answer(jpeg)
                    answer = head + body
                else:
                    answer = (
                        b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="cam"\r\n'
                        b"Content-Length: 0\r\n\r\n"
                    )
                conn.sendall(answer)
                sent += len(answer)
                request = read_request(conn)
    except OSError:
        pass
    finally:
        conn.close()
        print(f"closed {mode} sent={sent} after={time.monotonic() - started:.2f}", flush=True)


def main() -> None:
    mode, interval = sys.argv[1], float(sys.argv[2])
    jpeg = Path(sys.argv[3]).read_bytes() if len(sys.argv) > 3 else b"\xff\xd8\xff\xd9"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(f"ready {listener.getsockname()[1]}", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, mode, interval, jpeg), daemon=True).start()


if __name__ == "__main__":
    main()
