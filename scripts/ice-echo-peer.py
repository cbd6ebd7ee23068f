#!/usr/bin/env python3
"""ICE echo peer for the two-process interop test: an aioice agent in its own process.

Signalling is line based on stdin/stdout:
  out: "CRED <ufrag> <pwd>", one "CAND <candidate value>" per local candidate, "DONE"
  in:  "CRED <ufrag> <pwd>", "CAND <candidate value>" lines, "DONE" (end-of-candidates)
  out: "CONNECTED", then every datagram received on component 1 is sent back byte-reversed;
  in:  "BYE" (or EOF) ends the process.
Loopback only: host candidates come from 127.0.0.1 alone. Usage: ice-echo-peer.py [controlling|controlled]
"""
import asyncio
import sys

import aioice
import aioice.ice

# Restrict gathering to loopback (aioice would otherwise use every interface except 127.0.0.1).
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main() -> None:
    controlling = len(sys.argv) > 1 and sys.argv[1] == "controlling"
    connection = aioice.Connection(ice_controlling=controlling, components=1, use_ipv6=False)
    await connection.gather_candidates()
    say(f"CRED {connection.local_username} {connection.local_password}")
    for candidate in connection.local_candidates:
        say(f"CAND {candidate.to_sdp()}")
    say("DONE")

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    while True:
        line = (await reader.readline()).decode().strip()
        if not line:
            return
        kind, _, rest = line.partition(" ")
        if kind == "CRED":
            connection.remote_username, connection.remote_password = rest.split()
        elif kind == "CAND":
            await connection.add_remote_candidate(aioice.Candidate.from_sdp(rest))
        elif kind == "DONE":
            await connection.add_remote_candidate(None)
            break

    await connection.connect()
    say("CONNECTED")

    async def echo() -> None:
        while True:
            data, component = await connection.recvfrom()
            await connection.sendto(data[::-1], component)

    echoing = asyncio.ensure_future(echo())
    while True:
        line = (await reader.readline()).decode().strip()
        if not line or line == "BYE":
            break
    echoing.cancel()
    await connection.close()


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(), timeout=20))
