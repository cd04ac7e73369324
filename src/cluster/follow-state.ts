/**
 * What a following node decides for each bus message of one stream: pure state, no Redis, no sockets.
 *
 * Rules:
 * - Only one source node feeds a followed stream at a time: the node of the last `stream` message (or
 *   init key) accepted. Fragments and `ended` from any other node are ignored.
 * - Bus sequences must be consecutive. After a gap (a Redis outage, a slow subscriber dropped by Redis,
 *   a message the publisher could not send) fragments are dropped until the next keyframe fragment,
 *   which is delivered after a `skip` notice to viewers (unless nothing of this session reached them
 *   yet), so no viewer gets a hole inside a GOP.
 * - Bus sequences start at a random value per publisher session, so (node, init sequence) names a session.
 * - A fragment of another init (its `initSeq` differs: a `stream` message was missed) cannot be
 *   decoded with the init viewers have: it is dropped and the init key must be fetched again.
 */

export interface FollowState {
  /** The node feeding the stream, undefined while it is not live here from the bus. */
  source?: string;
  initSeq: number;
  lastSeq: number;
  /** Waiting for a keyframe fragment after a gap or a late start. */
  syncing: boolean;
  /** Whether a fragment of this session reached viewers (a resync then needs a `skip`). */
  delivered: boolean;
  /** The session (node, init sequence) of the last `ended` accepted: its init key, if still readable, is stale. */
  ended?: { node: string; initSeq: number };
}

export type FragmentVerdict = "deliver" | "skip-then-deliver" | "drop" | "ignore" | "need-init";

export function newFollowState(): FollowState {
  return { initSeq: 0, lastSeq: 0, syncing: false, delivered: false };
}

/**
 * A `stream` message from `node` (live = false) or the init key read at follow time (`fromKey`):
 * returns "start" when viewers must get a new `stream` + init, "ignore" for a duplicate or a stale key.
 */
export function onStream(st: FollowState, m: { node: string; seq: number; initSeq: number }, fromKey: boolean): "start" | "ignore" {
  if (fromKey) {
    if (st.source !== undefined) return "ignore"; // the live bus got there first
    if (st.ended && st.ended.node === m.node && st.ended.initSeq === m.initSeq) return "ignore";
  } else if (st.source === m.node && st.initSeq === m.initSeq) return "ignore";
  st.source = m.node;
  st.initSeq = m.initSeq;
  st.lastSeq = m.seq;
  // From the key, the position on the bus is unknown: start at the next keyframe.
  st.syncing = fromKey;
  st.delivered = false;
  return "start";
}

/** A fragment message: what to do with it. */
export function onFragment(st: FollowState, m: { node: string; seq: number; initSeq: number; keyframe: boolean }): FragmentVerdict {
  if (st.source === undefined || m.node !== st.source) return "ignore";
  const gap = m.seq !== (st.lastSeq + 1) >>> 0;
  st.lastSeq = m.seq;
  if (m.initSeq !== st.initSeq) {
    st.syncing = true;
    return "need-init";
  }
  if (gap) st.syncing = true;
  if (!st.syncing) {
    st.delivered = true;
    return "deliver";
  }
  if (!m.keyframe) return "drop";
  st.syncing = false;
  const skip = st.delivered;
  st.delivered = true;
  return skip ? "skip-then-deliver" : "deliver";
}

/** An `ended` message: "end" when it ends what this node is being fed. */
export function onEnded(st: FollowState, m: { node: string }): "end" | "ignore" {
  if (st.source === undefined || m.node !== st.source) return "ignore";
  st.ended = { node: m.node, initSeq: st.initSeq };
  st.source = undefined;
  return "end";
}

/**
 * The stream stopped being fed for another reason (lease gone, a local publisher took it, unfollow).
 * Nothing is marked stale: if the same node holds the lease again later, its init key revives the stream.
 */
export function onLost(st: FollowState): void {
  st.source = undefined;
}
