"""A fast local webhook receiver for ``bench_webhooks``: asyncio streams, keep-alive, an
empty 200 for every POST, and one line per request (arrival time, path, webhook-id, the
body's ``sku``) written to a file when it is stopped (SIGTERM).

``python -m benchmarks.webhook_receiver PORT OUTFILE``
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time

_SKU = re.compile(rb'"sku":"([^"]*)"')
_ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"


async def main(port: int, out: str) -> None:
    seen: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                found = _SKU.search(body)
                sku = found.group(1).decode() if found else ""
                seen.append(f"{time.time():.6f}\t{path}\t{headers.get('webhook-id', '')}\t{sku}")
                writer.write(_ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionResetError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=512)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    async with server:
        await stop.wait()
    with open(out, "w") as handle:
        handle.write("\n".join(seen) + "\n")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
