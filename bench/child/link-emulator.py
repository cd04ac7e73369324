#!/usr/bin/env python3
"""
Link emulator for bench/netns.ts: a two-port Ethernet "wire" in the middle network namespace.

The kernel here has no `netem`, so delay, jitter and loss are done in user space: the emulator reads
every frame that arrives on interface A or B through an AF_PACKET raw socket (ETH_P_ALL; frames it
sent itself come back as PACKET_OUTGOING and are skipped) and writes it, byte for byte, out of the
other interface after a delay. Nothing is parsed: ARP, IP, TCP and their checksums pass unchanged, so
both ends keep real TCP semantics (their own congestion control, retransmissions, SACK, RTT
estimates). The interfaces have no addresses; the namespace's own stack drops what it receives.

Per direction and per frame:
  - lost with probability --loss (independent, Bernoulli);
  - else due at arrival + delay + uniform(-jitter, +jitter) ms (not below arrival), but never before
    the frame in front of it: a FIFO delay line, so frames are never reordered (a real path's queue
    does not reorder; netem's jitter does unless told otherwise);
  - a direction holding more than --max-queue frames drops new ones (counted as overflow).
A rate cap is not done here: bench/lib/netns.ts puts `tbf` on the egress interface, which the frames
written by this process pass through (AF_PACKET sends go through the qdisc; a full tbf drops them,
reported as ENOBUFS and counted as `capDrops`).

Usage: link-emulator.py IF_A IF_B [--delay MS] [--jitter MS] [--loss FRACTION] [--seed N]
On SIGTERM/SIGINT it prints one JSON line of counters and how late frames left (scheduling error)
to stdout and exits 0. Prints "ready" once both sockets are bound.
"""

import argparse
import collections
import errno
import json
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
MAX_FRAME = 65536
# Frames read per readable socket before the delay lines are looked at again.
BATCH = 64
LATE_SAMPLES = 20000


def open_port(name: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind((name, 0))
    s.setblocking(False)
    return s


class Direction:
    """One direction of the wire: frames read from `src`, written to `dst` when due."""

    def __init__(self, name: str, src: socket.socket, dst: socket.socket, args, rng: random.Random):
        self.name = name
        self.src = src
        self.dst = dst
        self.delay = args.delay / 1000.0
        self.jitter = args.jitter / 1000.0
        self.loss = args.loss
        self.max_queue = args.max_queue
        self.rng = rng
        self.queue = collections.deque()
        self.last_due = 0.0
        self.counts = {"frames": 0, "bytes": 0, "lost": 0, "overflow": 0, "capDrops": 0, "sendErrors": 0, "sent": 0}
        self.late = []

    def receive(self, now: float) -> None:
        for _ in range(BATCH):
            try:
                frame, addr = self.src.recvfrom(MAX_FRAME)
            except BlockingIOError:
                return
            if addr[2] == PACKET_OUTGOING:
                continue
            self.counts["frames"] += 1
            self.counts["bytes"] += len(frame)
            if self.loss > 0 and self.rng.random() < self.loss:
                self.counts["lost"] += 1
                continue
            if len(self.queue) >= self.max_queue:
                self.counts["overflow"] += 1
                continue
            due = now + max(0.0, self.delay + (self.rng.uniform(-self.jitter, self.jitter) if self.jitter > 0 else 0.0))
            due = max(due, self.last_due)
            self.last_due = due
            self.queue.append((due, frame))

    def send_due(self, now: float) -> None:
        q = self.queue
        while q and q[0][0] <= now:
            due, frame = q.popleft()
            try:
                self.dst.send(frame)
                self.counts["sent"] += 1
            except OSError as e:
                if e.errno == errno.ENOBUFS:
                    self.counts["capDrops"] += 1
                else:
                    self.counts["sendErrors"] += 1
            if len(self.late) < LATE_SAMPLES:
                self.late.append(now - due)
            elif self.rng.random() < 0.01:
                self.late[self.rng.randrange(LATE_SAMPLES)] = now - due

    def report(self) -> dict:
        s = sorted(self.late)
        pick = lambda p: round(s[min(len(s) - 1, int(p * len(s)))] * 1000, 3) if s else None
        return {**self.counts, "lateMs": {"p50": pick(0.5), "p99": pick(0.99), "max": pick(1.0)}}


def main() -> None:
    p = argparse.ArgumentParser(description="userspace link emulator (delay, jitter, loss) between two interfaces")
    p.add_argument("if_a")
    p.add_argument("if_b")
    p.add_argument("--delay", type=float, default=0.0, help="one-way delay, ms, each direction")
    p.add_argument("--jitter", type=float, default=0.0, help="uniform +- ms around the delay")
    p.add_argument("--loss", type=float, default=0.0, help="loss probability per frame, each direction (0.01 = 1 %%)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-queue", type=int, default=20000, help="frames held per direction at most")
    args = p.parse_args()
    if not (0 <= args.loss < 1) or args.delay < 0 or args.jitter < 0 or args.max_queue < 1:
        p.error("need 0 <= loss < 1, delay >= 0, jitter >= 0, max-queue >= 1")

    a, b = open_port(args.if_a), open_port(args.if_b)
    rng = random.Random(args.seed)
    dirs = [Direction(f"{args.if_a}->{args.if_b}", a, b, args, rng), Direction(f"{args.if_b}->{args.if_a}", b, a, args, rng)]
    by_sock = {a: dirs[0], b: dirs[1]}
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    print("ready", flush=True)

    while not stopping:
        now = time.monotonic()
        for d in dirs:
            d.send_due(now)
        heads = [d.queue[0][0] for d in dirs if d.queue]
        timeout = max(0.0, min(heads) - time.monotonic()) if heads else 0.5
        try:
            readable, _, _ = select.select([a, b], [], [], timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        for s in readable:
            by_sock[s].receive(now)

    print(json.dumps({d.name: d.report() for d in dirs}), flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
