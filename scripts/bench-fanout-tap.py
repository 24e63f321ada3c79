#!/usr/bin/env python3
# Kernel receive timestamps for the fan-out bench (scripts/bench-fanout.ts): a TCP tap in front of
# each instrumented demo replica. It accepts the back end's connection with SO_TIMESTAMPNS on, and
# for every read from it records (end byte offset, the kernel's receive timestamp of that read's last
# segment) before forwarding the bytes to the replica; the replica's answers go back untouched.
# The bench maps each decoded RFB message to the stamp of the read that held its last byte, so the
# skew it computes does not depend on when any user-space process got to run. Runs under python3.
#
# Usage: bench-fanout-tap.py OUT_DIR TARGET_PORT...   (all on 127.0.0.1)
# Prints {"listen": [port, ...]} (one tap port per target, same order), then "C <tap> <conn>" when the
# back end connects and "E <tap> <conn>" once OUT_DIR/<tap>-<conn>.bin (the bytes the back end sent)
# and OUT_DIR/<tap>-<conn>.ts (lines "<end offset> <ns since the epoch>") are complete.

import json
import os
import selectors
import socket
import struct
import sys

# Linux's values where the socket module does not name them (asm-generic/socket.h).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = getattr(socket, "SCM_TIMESTAMPNS", SO_TIMESTAMPNS)
READ_BYTES = 65536
TIMESPEC = struct.Struct("@qq")
ANCILLARY_BYTES = socket.CMSG_SPACE(TIMESPEC.size)


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Connection:
    def __init__(self, tap, number, client, upstream, out_dir):
        self.tap = tap
        self.number = number
        self.client = client
        self.upstream = upstream
        self.received = bytearray()
        # (end offset, stamp) per read, kept in memory: the tap does as little as it can per read.
        self.stamps = []
        self.to_upstream = bytearray()
        self.to_client = bytearray()
        self.base = os.path.join(out_dir, f"{tap}-{number}")
        self.events = (False, False)
        self.closed = False


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: bench-fanout-tap.py OUT_DIR TARGET_PORT...\n")
        return 2
    out_dir = sys.argv[1]
    targets = [int(port) for port in sys.argv[2:]]
    selector = selectors.DefaultSelector()
    listeners = []
    for index, _target in enumerate(targets):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ, ("listen", index))
        listeners.append(listener)
    say(json.dumps({"listen": [listener.getsockname()[1] for listener in listeners]}))
    numbers = [0] * len(targets)

    def interest(connection):
        # Only when a direction starts or stops waiting to be written: no system call per read otherwise.
        events = (bool(connection.to_client), bool(connection.to_upstream))
        if connection.closed or events == connection.events:
            return
        connection.events = events
        selector.modify(connection.client, selectors.EVENT_READ | (selectors.EVENT_WRITE if events[0] else 0), ("client", connection))
        selector.modify(connection.upstream, selectors.EVENT_READ | (selectors.EVENT_WRITE if events[1] else 0), ("upstream", connection))

    def close(connection):
        if connection.closed:
            return
        connection.closed = True
        for sock in (connection.client, connection.upstream):
            selector.unregister(sock)
            sock.close()
        with open(connection.base + ".bin", "wb") as bytes_file:
            bytes_file.write(connection.received)
        with open(connection.base + ".ts", "w") as stamps_file:
            stamps_file.write("".join(f"{offset} {stamp}\n" for offset, stamp in connection.stamps))
        say(f"E {connection.tap} {connection.number}")

    def pump(sock, pending):
        while pending:
            try:
                sent = sock.send(pending)
            except BlockingIOError:
                return True
            del pending[:sent]
        return True

    while True:
        for key, _mask in selector.select():
            role, value = key.data
            if role == "listen":
                client, _address = listeners[value].accept()
                client.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                upstream = socket.create_connection(("127.0.0.1", targets[value]))
                upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                client.setblocking(False)
                upstream.setblocking(False)
                numbers[value] += 1
                connection = Connection(value, numbers[value], client, upstream, out_dir)
                selector.register(client, selectors.EVENT_READ, ("client", connection))
                selector.register(upstream, selectors.EVENT_READ, ("upstream", connection))
                say(f"C {value} {connection.number}")
                continue
            connection = value
            if connection.closed:
                continue
            try:
                if role == "client":
                    if key.events & selectors.EVENT_WRITE and connection.to_client:
                        pump(connection.client, connection.to_client)
                    try:
                        data, ancillary, _flags, _address = connection.client.recvmsg(READ_BYTES, ANCILLARY_BYTES)
                    except BlockingIOError:
                        data, ancillary = None, []
                    if data is not None:
                        if not data:
                            close(connection)
                            continue
                        stamp = -1
                        for level, kind, payload in ancillary:
                            if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(payload) >= TIMESPEC.size:
                                seconds, nanoseconds = TIMESPEC.unpack_from(payload)
                                stamp = seconds * 1_000_000_000 + nanoseconds
                        connection.received += data
                        connection.stamps.append((len(connection.received), stamp))
                        connection.to_upstream += data
                        pump(connection.upstream, connection.to_upstream)
                else:
                    if key.events & selectors.EVENT_WRITE and connection.to_upstream:
                        pump(connection.upstream, connection.to_upstream)
                    try:
                        data = connection.upstream.recv(READ_BYTES)
                    except BlockingIOError:
                        data = None
                    if data is not None:
                        if not data:
                            close(connection)
                            continue
                        connection.to_client += data
                        pump(connection.client, connection.to_client)
                interest(connection)
            except OSError:
                close(connection)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
