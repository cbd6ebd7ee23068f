#!/usr/bin/env python3
"""An aiortc audio peer for loopback interoperability tests of `jingle sdp-call`.

  aiortc-peer.py offer  --sdp-out OFFER.sdp --sdp-in ANSWER.sdp [options]
  aiortc-peer.py answer --sdp-in OFFER.sdp --sdp-out ANSWER.sdp [options]

Options: --wav FILE (audio to send, looped; default a --freq tone), --freq HZ (default 440),
--record OUT.wav (received audio), --seconds N (media time once connected, default 5),
--wait N (how long to wait for the SDP input and the connection, default 30), --codec PCMU|PCMA.

Vanilla ICE: aiortc gathers every candidate before the description is written. Only 127.0.0.1 host
candidates are gathered (aioice normally uses every interface except loopback) and no STUN server is
used, so all traffic stays on loopback. The codecs are restricted to --codec (PCMU by default) with
RTCRtpTransceiver.setCodecPreferences, so the peer never needs opus.

Exit status 0 when ICE and DTLS connected and, with --record, audio arrived; 1 otherwise.
"""
import argparse
import asyncio
import fractions
import math
import os
import sys
import time

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("role", choices=["offer", "answer"])
parser.add_argument("--sdp-in", required=True)
parser.add_argument("--sdp-out", required=True)
parser.add_argument("--wav")
parser.add_argument("--freq", type=float, default=440.0)
parser.add_argument("--record")
parser.add_argument("--seconds", type=float, default=5.0)
parser.add_argument("--wait", type=float, default=30.0)
parser.add_argument("--codec", default="PCMU", choices=["PCMU", "PCMA"])
args = parser.parse_args()

import aioice.ice  # noqa: E402

# Loopback only: aioice asks this function for the addresses to gather host candidates on.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

import av  # noqa: E402
import numpy  # noqa: E402
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription  # noqa: E402
from aiortc.contrib.media import MediaPlayer, MediaRecorder  # noqa: E402

START = time.monotonic()


def log(*parts):
    print(f"[aiortc {args.role} {time.monotonic() - START:6.3f}s]", *parts, file=sys.stderr, flush=True)


class Tone(MediaStreamTrack):
    """A sine tone in 20 ms frames of 8 kHz mono s16, paced by the event loop's clock."""

    kind = "audio"

    def __init__(self, frequency, rate=8000):
        super().__init__()
        self.frequency, self.rate, self.samples = frequency, rate, rate // 50
        self.position, self.started = 0, None

    async def recv(self):
        if self.started is None:
            self.started = time.monotonic()
        delay = self.started + self.position / self.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t = (numpy.arange(self.samples) + self.position) / self.rate
        pcm = (8000 * numpy.sin(2 * math.pi * self.frequency * t)).astype(numpy.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = self.rate, self.position
        frame.time_base = fractions.Fraction(1, self.rate)
        self.position += self.samples
        return frame


async def read_sdp(path):
    if path == "-":
        return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    deadline = time.monotonic() + args.wait
    while not (os.path.exists(path) and os.path.getsize(path) > 0):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no SDP in {path} after {args.wait} s")
        await asyncio.sleep(0.05)
    with open(path) as f:
        return f.read()


def write_sdp(path, text):
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    temporary = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(temporary, "w") as f:
        f.write(text)
    os.replace(temporary, path)  # atomic: the peer polls for the file


def restrict_codecs(transceiver):
    wanted = f"audio/{args.codec}".lower()
    codecs = [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType.lower() == wanted]
    transceiver.setCodecPreferences(codecs)


async def main():
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    connected = asyncio.get_running_loop().create_future()
    heard = asyncio.get_running_loop().create_future()
    recorder = MediaRecorder(args.record) if args.record else None
    source = MediaPlayer(args.wav, loop=True).audio if args.wav else Tone(args.freq)

    @pc.on("connectionstatechange")
    async def on_state():
        log("connection state", pc.connectionState)
        if pc.connectionState in ("connected", "failed") and not connected.done():
            connected.set_result(pc.connectionState == "connected")

    @pc.on("track")
    def on_track(track):
        log("remote track", track.kind)
        if recorder:
            recorder.addTrack(track)
        if not heard.done():
            heard.set_result(True)

    if args.role == "offer":
        transceiver = pc.addTransceiver(source, direction="sendrecv")
        restrict_codecs(transceiver)
        await pc.setLocalDescription(await pc.createOffer())  # returns once gathering is complete
        write_sdp(args.sdp_out, pc.localDescription.sdp)
        log("offer written")
        await pc.setRemoteDescription(RTCSessionDescription(await read_sdp(args.sdp_in), "answer"))
    else:
        await pc.setRemoteDescription(RTCSessionDescription(await read_sdp(args.sdp_in), "offer"))
        for transceiver in pc.getTransceivers():
            if transceiver.kind == "audio":
                transceiver.sender.replaceTrack(source)
                transceiver.direction = "sendrecv"
                restrict_codecs(transceiver)
        await pc.setLocalDescription(await pc.createAnswer())
        write_sdp(args.sdp_out, pc.localDescription.sdp)
        log("answer written")
    if recorder:
        await recorder.start()
    try:
        ok = await asyncio.wait_for(connected, args.wait)
    except asyncio.TimeoutError:
        log("ICE/DTLS did not connect in time")
        ok = False
    if ok:
        await asyncio.sleep(args.seconds)
        for transceiver in pc.getTransceivers():
            for stats in (await transceiver.sender.getStats()).values():
                if stats.type == "outbound-rtp":
                    log(f"sent packets={stats.packetsSent} bytes={stats.bytesSent}")
    if recorder:
        await recorder.stop()
    await pc.close()
    ok = ok and (heard.done() or not args.record)
    log("done, ok =", ok)
    return 0 if ok else 1


sys.exit(asyncio.run(main()))
