/**
 * Starts playback under browser autoplay policies: `play()`, and when the browser refuses playback
 * with sound (NotAllowedError) it retries muted, so the stream still plays and the unmute button
 * (shown while `muted`) lets the user turn the sound on. Resolves whether it played.
 */
export async function autoplay(video: HTMLVideoElement): Promise<boolean> {
  try {
    await video.play();
    return true;
  } catch (e) {
    if ((e as DOMException).name !== "NotAllowedError" || video.muted) return false;
  }
  video.muted = true;
  try {
    await video.play();
    return true;
  } catch {
    return false;
  }
}
