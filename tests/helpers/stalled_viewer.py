"""A WebSocket viewer that stops reading: a tiny receive buffer, the upgrade, then no reads for
STALL seconds, then it reads everything for READ seconds and writes the raw bytes it got after the
handshake to OUT. Used by the slow-viewer tests (Bun's client cannot shrink SO_RCVBUF).
Usage: stalled_viewer.py HOST PORT PATH STALL READ OUT"""
import base64, os, socket, sys, time

host, port, path, stall, read_for, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    chunk = s.recv(1)
    if not chunk:
        sys.exit("closed during handshake")
    buf += chunk
if not buf.startswith(b"HTTP/1.1 101"):
    sys.exit("upgrade refused: " + buf.decode(errors="replace"))
print("upgraded", flush=True)
time.sleep(stall)
print("reading", flush=True)
s.settimeout(0.5)
end = time.time() + read_for
with open(out, "wb") as f:
    while time.time() < end:
        try:
            data = s.recv(1 << 16)
        except socket.timeout:
            continue
        if not data:
            break
        f.write(data)
print("done", flush=True)
