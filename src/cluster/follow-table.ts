/**
 * Which streams a node follows, bounded: pure bookkeeping (no Redis), viewers are looked up through
 * `viewersOf`. Rules:
 * - At most `max` entries. When full, `victim` names the entry to unfollow to make room: the one
 *   without viewers on this node that was watched (or followed) longest ago; none when every entry
 *   has viewers.
 * - `idle` at each check: an entry with viewers is marked watched and refreshed; one without is due
 *   for unfollowing `unwatchedMs` after its last `touch` when no viewer was ever seen on it (a follow
 *   whose socket never opened), `idleMs` after its viewers left otherwise.
 * - `displaced` remembers (bounded, oldest forgotten first) streams refused or evicted before their
 *   viewer's socket could open, for the next check to follow them if they have viewers by then.
 */
export interface TableEntry {
  /** Last `follow` call or last check that saw viewers. */
  lastWatched: number;
  /** A check saw a viewer on it. */
  watched: boolean;
}

export interface FollowTableOptions {
  max: number;
  idleMs: number;
  unwatchedMs: number;
}

export interface FollowTable<E extends TableEntry> {
  readonly size: number;
  readonly full: boolean;
  get(name: string): E | undefined;
  /** Every entry, least recently watched first. */
  entries(): Array<[string, E]>;
  add(name: string, e: E, now: number): void;
  delete(name: string): void;
  /** A viewer asked for it now (moves it to the most recently watched end). */
  touch(name: string, e: E, now: number): void;
  victim(): [string, E] | undefined;
  /** At a check: true when `name` is due for unfollowing; refreshes it when it has viewers. */
  idle(name: string, e: E, now: number): boolean;
  remember(name: string): void;
  /** The remembered names, forgotten by this call. */
  takeDisplaced(): string[];
}

export function createFollowTable<E extends TableEntry>(o: FollowTableOptions, viewersOf: (name: string) => number): FollowTable<E> {
  /** Insertion order = least recently watched first. */
  const entries = new Map<string, E>();
  const displaced = new Set<string>();
  const touch = (name: string, e: E, now: number) => {
    e.lastWatched = now;
    entries.delete(name);
    entries.set(name, e);
  };
  return {
    get size() {
      return entries.size;
    },
    get full() {
      return entries.size >= o.max;
    },
    get: (name) => entries.get(name),
    entries: () => [...entries],
    add: (name, e, now) => touch(name, e, now),
    delete: (name) => void entries.delete(name),
    touch,
    victim() {
      // Entries with viewers are refreshed at every check, so the scan passes few of them.
      for (const pair of entries) if (viewersOf(pair[0]) === 0) return pair;
      return undefined;
    },
    idle(name, e, now) {
      if (viewersOf(name) > 0) {
        e.watched = true;
        touch(name, e, now);
        return false;
      }
      return now - e.lastWatched > (e.watched ? o.idleMs : o.unwatchedMs);
    },
    remember(name) {
      displaced.delete(name);
      displaced.add(name);
      if (displaced.size > o.max) displaced.delete(displaced.values().next().value as string);
    },
    takeDisplaced() {
      const names = [...displaced];
      displaced.clear();
      return names;
    },
  };
}
