#!/usr/bin/env python3
"""Loopback TCP forwarder that adds a fixed one-way delay, for benchmarks (stdlib only).

    python3 bench/delay_proxy.py --delay-ms 25 LISTEN:TARGET [LISTEN:TARGET ...]

Listens on 127.0.0.1:LISTEN and forwards each connection to 127.0.0.1:TARGET, holding every
chunk D ms in each direction (so a round trip costs 2*D ms), in order. Each direction has a
queue of (due time, chunk): a chunk is stamped when it is read and written when its time comes,
so chunks in flight overlap like packets on a link instead of queueing behind one another's
sleeps. The connection to TARGET is opened D ms after the accept (the SYN's trip), bytes from
the client wait meanwhile. EOF (shutdown) is forwarded, delayed like data.

LISTEN 0 picks a free port. When all ports listen, prints one line "READY P1 P2 ..." (the
listening ports, in argument order) and flushes. Exits when stdin closes (EOF) or on
SIGTERM/SIGINT. Only 127.0.0.1 is ever bound or connected to.
"""
import argparse
import asyncio
import signal
import sys

HOST = "127.0.0.1"
CHUNK = 65536


async def pump(reader, writer, delay):
    """Copy reader to writer, each chunk (and the EOF) delayed by `delay` seconds."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue(maxsize=4096)  # full: stop reading, TCP pushes back on the sender

    async def read_side():
        try:
            while True:
                data = await reader.read(CHUNK)
                await queue.put((loop.time() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            await queue.put((loop.time() + delay, b""))

    async def write_side():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    r = asyncio.ensure_future(read_side())
    try:
        await write_side()
    finally:
        r.cancel()


async def handle(client_r, client_w, target, delay):
    up_w = None
    try:
        await asyncio.sleep(delay)  # the SYN on its way
        up_r, up_w = await asyncio.open_connection(HOST, target)
        tasks = [
            asyncio.ensure_future(pump(client_r, up_w, delay)),
            asyncio.ensure_future(pump(up_r, client_w, delay)),
        ]
        try:
            # Both directions end on EOF; a reset in either ends both.
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                try:
                    await t
                except (asyncio.CancelledError, ConnectionError, OSError):
                    pass
    except (ConnectionError, OSError):
        pass
    except asyncio.CancelledError:
        pass  # shutting down with this connection still open (e.g. its close still in flight)
    finally:
        for w in (client_w, up_w):
            if w is not None:
                try:
                    w.close()
                except Exception:
                    pass


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--delay-ms", type=float, required=True, help="one-way delay, milliseconds")
    ap.add_argument("pairs", nargs="+", metavar="LISTEN:TARGET")
    args = ap.parse_args()
    delay = args.delay_ms / 1000.0
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def finish():
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, finish)

    servers, ports = [], []
    for pair in args.pairs:
        listen, _, target = pair.partition(":")
        listen, target = int(listen), int(target)
        srv = await asyncio.start_server(
            lambda r, w, t=target: handle(r, w, t, delay), HOST, listen, reuse_address=True
        )
        servers.append(srv)
        ports.append(srv.sockets[0].getsockname()[1])

    # Stdin closing (the parent gone) ends the proxy.
    def on_stdin():
        try:
            if not sys.stdin.buffer.raw.read(4096):
                finish()
        except OSError:
            finish()

    try:
        loop.add_reader(sys.stdin.fileno(), on_stdin)
    except (OSError, ValueError, PermissionError):
        pass  # stdin not pollable (e.g. a regular file): SIGTERM only

    print("READY", *ports, flush=True)
    await stop
    for srv in servers:
        srv.close()


if __name__ == "__main__":
    asyncio.run(main())
