"""A TCP port in front of the test server, in a process of its own, that a test turns on and off.

`python -m tests.storage.postgres.forwarder HOST PORT LISTEN_PORT`, then lines on stdin, each
answered `ok` on stdout once done:
- `listen`: start listening on LISTEN_PORT (until then nothing listens: connections are refused,
  as by a server that is not up yet), forwarding each connection to HOST:PORT;
- `hang`: from now on accept new connections and never answer them, dropping each after HANG
  seconds (a server, or a network, that has stopped answering);
- end of stdin: exit.

A process of its own, not a thread: a client that blocks its whole process (holding the GIL in a
C call, as libpq's old cancel request does) must not also stop the server it waits for.
"""

from __future__ import annotations

import asyncio
import sys

HANG = 5.0


class Forwarder:
    def __init__(self, host: str, port: int, listen_port: int) -> None:
        self.host, self.port, self.listen_port = host, port, listen_port
        self.hang = False
        self.server: asyncio.Server | None = None

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.hang:
            await asyncio.sleep(HANG)
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            writer.close()
            return

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command = line.strip()
            if command == "listen":
                self.server = await asyncio.start_server(self.serve, "127.0.0.1", self.listen_port)
            elif command == "hang":
                self.hang = True
            else:
                raise SystemExit(f"unknown command {command!r}")
            print("ok", flush=True)


def main() -> None:
    host, port, listen_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    asyncio.run(Forwarder(host, port, listen_port).run())


if __name__ == "__main__":
    main()
