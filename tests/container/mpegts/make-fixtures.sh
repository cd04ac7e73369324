#!/usr/bin/env bash
# Regenerates the MPEG-TS fixtures of tests/fixtures/ (Debian ffmpeg 5.1). Written to pipe:1, a
# non-seekable output, as a publisher would send them. See tests/fixtures/README.md.
set -euo pipefail
cd "$(dirname "$0")/../../fixtures"
V="-f lavfi -i testsrc2=size=320x240:rate=25:duration=3"
A="-f lavfi -i sine=frequency=440:sample_rate=48000:duration=3"
G="-g 15 -keyint_min 15 -sc_threshold 0"
X264="-c:v libx264 -preset veryfast -tune zerolatency -pix_fmt yuv420p $G"
ff() { out=$1; shift; ffmpeg -hide_banner -loglevel error -y "$@" pipe:1 > "$out"; }
ff h264-aac.mpegts $V $A $X264 -b:v 200k -c:a aac -b:a 64k -f mpegts
ff h264-aac-bframes.mpegts $V $A -c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p $G -b:v 200k -c:a aac -b:a 64k -ac 2 -f mpegts
ff hevc-aac.mpegts $V $A -c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=15:min-keyint=15:scenecut=0 -b:v 200k -c:a aac -b:a 64k -ar 44100 -f mpegts
ff h264-opus.mpegts $V $A $X264 -b:v 200k -c:a libopus -b:a 48k -ac 2 -f mpegts
ff mpeg2-mp2.mpegts $V $A -t 1 -c:v mpeg2video -q:v 31 -c:a mp2 -b:a 64k -f mpegts
ff h264-aac.m2ts $V $A $X264 -b:v 200k -c:a aac -b:a 64k -f mpegts -mpegts_m2ts_mode 1
ff h264-aac-wrap.mpegts $V $A $X264 -b:v 200k -c:a aac -b:a 64k -f mpegts -output_ts_offset 95442
