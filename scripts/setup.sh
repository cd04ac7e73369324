#!/usr/bin/env bash
# Installs everything Sluice's tests need on a fresh machine of this kind (Debian + node/npm):
# Bun and the JS dependencies from the npm registry, and ffmpeg + Chromium + redis-server (cluster-mode
# tests) + nginx and Caddy (reverse-proxy tests) + GStreamer and srt-tools (RTMP and SRT ingest tests)
# from Debian when missing.
# Safe to run again: it installs only what is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v nginx >/dev/null 2>&1 || need+=(nginx)  # the reverse-proxy test runs the shipped nginx set-up
command -v caddy >/dev/null 2>&1 || need+=(caddy)  # ... and the shipped Caddyfile
command -v python3 >/dev/null 2>&1 || need+=(python3)  # the stalled-viewer test client
command -v srt-live-transmit >/dev/null 2>&1 || need+=(srt-tools)  # the SRT → UDP ingest set-up
# bench/netns.ts (not the tests): namespaces, veth, tc, offload switches, ping.
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ethtool >/dev/null 2>&1 || need+=(ethtool)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
# GStreamer's rtmp2sink (plugins-bad) with flvmux (good), x264enc (ugly) and an AAC encoder: a second RTMP client.
if ! command -v gst-inspect-1.0 >/dev/null 2>&1 || ! gst-inspect-1.0 rtmp2sink >/dev/null 2>&1 || ! gst-inspect-1.0 x264enc >/dev/null 2>&1; then
  need+=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci (Bun comes from the npm registry as a dependency)"
  npm ci --no-audit --no-fund --loglevel=error
fi
node_modules/.bin/bun --version >/dev/null
