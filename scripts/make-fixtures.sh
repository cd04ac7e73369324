#!/usr/bin/env bash
# Regenerates the committed parser fixtures in tests/fixtures/ with Debian's ffmpeg 5.1.
# Every file is written to a pipe (pipe:1), which is non-seekable exactly like a TCP publisher,
# so the bytes are what Sluice receives on its ingest port. tests/fixtures/README.md lists the
# resulting commands; keep both in step.
set -euo pipefail
cd "$(dirname "$0")/../tests/fixtures"
V="-f lavfi -i testsrc2=size=320x240:rate=25:duration=3"
A="-f lavfi -i sine=frequency=440:sample_rate=48000:duration=3"
G="-g 15 -keyint_min 15 -sc_threshold 0"
X264="-c:v libx264 -preset veryfast -tune zerolatency -pix_fmt yuv420p $G"
MP4="-f mp4 -movflags empty_moov+default_base_moof+frag_keyframe+skip_trailer"
run() { local out=$1; shift; ffmpeg -hide_banner -loglevel error -y "$@" pipe:1 > "$out"; echo "$out $(stat -c %s "$out")"; }

run h264-baseline-aac.mp4   $V $A $X264 -profile:v baseline -b:v 300k -c:a aac -b:a 64k $MP4
run h264-main-aac.mp4       $V $A $X264 -profile:v main -b:v 300k -c:a aac -b:a 64k $MP4 -frag_duration 100000
run h264-high-aac-bframes.mp4 $V $A -c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p $G -b:v 300k -c:a aac -b:a 64k $MP4
run h264-opus.mp4           $V $A $X264 -b:v 300k -c:a libopus -b:a 48k $MP4
run h264-aac-dash-prft.mp4  $V $A $X264 -b:v 300k -c:a aac -b:a 64k -f mp4 -movflags empty_moov+default_base_moof+frag_keyframe+dash+skip_trailer -write_prft wallclock -frag_duration 200000
run h264-every-frame.mp4    $V $A $X264 -b:v 300k -c:a aac -b:a 64k -f mp4 -movflags empty_moov+default_base_moof+frag_every_frame
run h264-midgop-frags.mp4   $V -an $X264 -b:v 300k -f mp4 -movflags empty_moov+default_base_moof -frag_duration 100000
run av1-opus.mp4            $V $A -c:v libsvtav1 -preset 12 -pix_fmt yuv420p -g 15 -b:v 300k -c:a libopus -b:a 48k $MP4
run vp9.mp4                 $V -an -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -lag-in-frames 0 $G -b:v 300k $MP4
run hevc-hvc1.mp4           $V -an -c:v libx265 -preset ultrafast -tag:v hvc1 -x265-params log-level=error:keyint=15:min-keyint=15:scenecut=0 -b:v 300k $MP4
run aac-only.mp4            $A -vn -c:a aac -b:a 64k -f mp4 -movflags empty_moov+default_base_moof -frag_duration 500000
run classic-h264.mp4        -f lavfi -i testsrc2=size=640x480:rate=25:duration=3 -vcodec libx264 -profile:v main -g 25 -r 25 -b:v 500k -keyint_min 250 -strict experimental -pix_fmt yuv420p -movflags empty_moov+default_base_moof -an -preset ultrafast -f mp4
run vp8-opus.webm           $V $A -c:v libvpx -b:v 300k -deadline realtime -cpu-used 8 $G -c:a libopus -b:a 48k -f webm -live 1 -cluster_time_limit 100
run vp8-vorbis.webm         $V $A -c:v libvpx -b:v 300k -deadline realtime -cpu-used 8 $G -c:a libvorbis -b:a 64k -f webm -live 1
run vp9-opus.webm           $V $A -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -row-mt 1 -lag-in-frames 0 $G -b:v 300k -c:a libopus -b:a 48k -f webm -live 1 -cluster_time_limit 100
run av1.webm                $V -an -c:v libsvtav1 -preset 12 -pix_fmt yuv420p -g 15 -b:v 300k -f webm -live 1
run classic-vp8.webm        -f lavfi -i testsrc2=size=640x480:rate=25:duration=2 -vcodec libvpx -b:v 3500k -r 25 -crf 10 -quality realtime -speed 16 -threads 8 -an -g 25 -f webm
