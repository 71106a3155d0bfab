"""A TCP proxy that can be cut: outages of PostgreSQL, RabbitMQ or GitHub for the processes pointed at it,
without stopping the server others share.

    proxy = OutageProxy(5432).start()           # listens on 127.0.0.1:proxy.port, forwards to 127.0.0.1:5432
    url = proxy.url("postgres://postgres@127.0.0.1:5432/db")   # the same URL through the proxy
    proxy.cut()        # every open connection reset, new ones refused: the server is down
    proxy.stall()      # connections stay open but nothing flows, new ones hang: a network partition
    proxy.restore()    # the server is back (stalled connections carry on where they stopped)

It runs its own asyncio loop in a daemon thread; every method may be called from any thread.
"""
import asyncio
import threading
from urllib.parse import urlsplit, urlunsplit

CHUNK = 64 * 1024


class OutageProxy:
    """Forwards 127.0.0.1:`port` (0: a free port) to `target_host`:`target_port` until told otherwise."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1", port: int = 0):
        self.target = (target_host, target_port)
        self.port = port
        self.state = "up"
        self.counts = {"connections": 0, "reset": 0, "refused_upstream": 0}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"outage-proxy:{target_port}",
                                        daemon=True)
        self._server = None
        self._flowing = None
        self._transports = set()

    def start(self) -> "OutageProxy":
        """Listen (on `port`, or a free one written back to `port`) and forward."""
        self._thread.start()
        self._call(self._start())
        return self

    def url(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's (credentials and path kept)."""
        parts = urlsplit(url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def cut(self) -> None:
        """The server goes down: open connections are reset and new ones refused."""
        self._call(self._cut())

    def stall(self) -> None:
        """A partition: connections stay open and accepted, but no byte goes through until `restore`."""
        self._call(self._stall())

    def restore(self) -> None:
        """Forward again (listening again after a cut)."""
        self._call(self._restore())

    def stop(self) -> None:
        """Cut, then end the loop and its thread."""
        if self._thread.is_alive():
            self.cut()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    async def _start(self):
        self._flowing = asyncio.Event()
        self._flowing.set()
        await self._listen()

    async def _listen(self):
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self):
        self.state = "cut"
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for transport in list(self._transports):
            transport.abort()
            self.counts["reset"] += 1
        self._transports.clear()

    async def _stall(self):
        if self.state == "cut":
            await self._listen()
        self.state = "stalled"
        self._flowing.clear()

    async def _restore(self):
        if self._server is None:
            await self._listen()
        self.state = "up"
        self._flowing.set()

    async def _serve(self, client_reader, client_writer):
        self.counts["connections"] += 1
        self._transports.add(client_writer.transport)
        try:
            await self._flowing.wait()
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self.counts["refused_upstream"] += 1
            client_writer.transport.abort()
            self._transports.discard(client_writer.transport)
            return
        if self.state == "cut":  # cut while this connection was being made
            upstream_writer.transport.abort()
            return
        self._transports.add(upstream_writer.transport)
        await asyncio.gather(self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer))

    async def _pipe(self, reader, writer):
        """Copy `reader` to `writer` while flowing; the end of either side closes the other."""
        try:
            while data := await reader.read(CHUNK):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._transports.discard(writer.transport)
            writer.close()
