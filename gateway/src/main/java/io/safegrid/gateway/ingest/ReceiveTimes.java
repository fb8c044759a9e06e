package io.safegrid.gateway.ingest;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The receive time a message's records without {@code ts} get: strictly increasing per device,
 * {@code max(receive ms, the device's previous stamp + 1 ms)}, so two messages of one device that
 * arrive in the same millisecond (a unit without a clock flushing its queue after a reconnect:
 * 32 QoS 1 PUBLISH in flight; two CoAP POSTs back to back) never share a time. They used to: the
 * readings table is unique on (device, metric, time) and kept only the first, so a PUBACK'd 70
 * %LEL behind a 1.0 was lost, and the rule engine took it for a resend (newcomer7 F12: 47 of a
 * 200-message burst).
 *
 * <p>A stamp runs ahead of the wall clock only while a device sends more than one message a
 * millisecond, by at most as many milliseconds as it sent too fast (the MQTT rate limit, 50
 * messages/s per device as shipped, lets it catch up at once). If the gateway's clock steps back
 * by more than {@link #MAX_LEAD_MILLIS}, the stamps follow the clock again (a stamp could then
 * equal one given before the step).
 *
 * <p>Several records without {@code ts} in one message share the message's stamp (newcomer7 F2,
 * judged by the storage conflict path). Memory: one entry per device that sent a message (the
 * device is authenticated, so bounded by the site file), about 100 bytes each. Lock-free: a map
 * lookup and a compare-and-set per message, no allocation after a device's first message.
 */
final class ReceiveTimes {

  /** A stamp this far ahead of the wall clock means the clock stepped back: follow it, ms. */
  static final long MAX_LEAD_MILLIS = 1_000;

  private final ConcurrentHashMap<String, AtomicLong> last = new ConcurrentHashMap<>();

  /**
   * @param deviceId the authenticated device
   * @param receivedAtMillis epoch ms the transport received the message
   * @return epoch ms for the message's records without {@code ts}: after every stamp this device
   *     got before, and not before {@code receivedAtMillis} (but see {@link #MAX_LEAD_MILLIS})
   */
  long next(String deviceId, long receivedAtMillis) {
    AtomicLong stamp = last.get(deviceId);
    if (stamp == null) {
      stamp = last.computeIfAbsent(deviceId, k -> new AtomicLong(Long.MIN_VALUE));
    }
    while (true) {
      long previous = stamp.get();
      long t = previous < receivedAtMillis || previous - receivedAtMillis >= MAX_LEAD_MILLIS
          ? receivedAtMillis : previous + 1;
      if (stamp.compareAndSet(previous, t)) {
        return t;
      }
    }
  }
}
