package io.safegrid.dashboard.live;

/** A receiver of live events (one SSE client). Implementations must not block in {@link #offer}. */
interface LiveSubscriber {
  /** Queues an event; never blocks. */
  void offer(LiveEvent event);

  /** True when this subscriber asked for readings of this device. */
  boolean wantsReadingsOf(String deviceId);

  /** True when this subscriber asked for any readings at all. */
  boolean wantsReadings();
}
