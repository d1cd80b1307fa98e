#!/usr/bin/env python3
"""tests/service/cut-proxy.py - a PostgreSQL connection proxy that loses
a connection on cue, for tests/service/api.sh: "the connection lost after
the commit was sent".

  cut-proxy.py LISTEN UPSTREAM CTL

Relays each client of the unix socket LISTEN to the unix socket UPSTREAM
(a PostgreSQL server's), and learns each connection's backend pid from
the server's BackendKeyData message.  Cues are files the test makes in
the folder CTL (checked every 20 ms):
  freeze-PID   the server's answers on PID's connection are dropped from now
  cut-PID      PID's connection is closed at both ends (the client sees
               the connection lost)
Each cue done is renamed CUE.done.  Prints "ready" once it listens.
"""
import os
import socket
import struct
import sys
import threading
import time

LISTEN, UPSTREAM, CTL = sys.argv[1:4]
conns = {}  # backend pid -> {"client": sock, "server": sock, "frozen": bool}
lock = threading.Lock()


def pump(src, dst, state):
    """Copy SRC to DST until either end closes; STATE["frozen"] drops it."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if not state["frozen"]:
                dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def server_pump(server, client, state):
    """The server's first messages, read one by one up to BackendKeyData ('K': its pid)."""
    buf = b""
    try:
        while True:
            while len(buf) < 5:
                more = server.recv(65536)
                if not more:
                    raise OSError("closed")
                buf += more
            kind, length = buf[:1], struct.unpack("!I", buf[1:5])[0]
            while len(buf) < 1 + length:
                more = server.recv(65536)
                if not more:
                    raise OSError("closed")
                buf += more
            msg, buf = buf[:1 + length], buf[1 + length:]
            client.sendall(msg)
            if kind == b"K":
                pid = struct.unpack("!I", msg[5:9])[0]
                with lock:
                    conns[pid] = state
                break
        if buf:
            client.sendall(buf)
    except OSError:
        return
    pump(server, client, state)


def serve(client):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.connect(UPSTREAM)
    state = {"client": client, "server": server, "frozen": False}
    threading.Thread(target=pump, args=(client, server, state), daemon=True).start()
    threading.Thread(target=server_pump, args=(server, client, state), daemon=True).start()


def cues():
    while True:
        for name in os.listdir(CTL):
            if name.endswith(".done") or "-" not in name:
                continue
            what, pid = name.split("-", 1)
            with lock:
                state = conns.get(int(pid))
            if state is None:
                continue
            if what == "freeze":
                state["frozen"] = True
            elif what == "cut":
                for s in (state["client"], state["server"]):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            os.rename(os.path.join(CTL, name), os.path.join(CTL, name + ".done"))
        time.sleep(0.02)


listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(LISTEN)
listener.listen(64)
threading.Thread(target=cues, daemon=True).start()
print("ready", flush=True)
while True:
    c, _ = listener.accept()
    serve(c)
