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
 * <p>Several records without {@code ts} in one message get stamps 1 ms apart, in payload order
 * ({@link #peek} the first, decode, then {@link #claim} as many as were used): each is stored and
 * judged in its order, none taken for a stopped device clock (review7 R17; they used to share the
 * message's stamp, and every record after the first was flagged {@code clock_frozen} and kept
 * only as a storage conflict dead letter). A message with more than {@link #MAX_LEAD_MILLIS}
 * such records leads the clock by that much: the next message follows the clock again, and a
 * record of it may then share a time with one of that message (a storage conflict dead letter).
 *
 * <p>Memory: one entry per device that sent a message (the device is authenticated, so bounded
 * by the site file), about 100 bytes each. Lock-free: a map lookup and a compare-and-set per
 * message, no allocation after a device's first message.
 */
final class ReceiveTimes {

  /** A stamp this far ahead of the wall clock means the clock stepped back: follow it, ms. */
  static final long MAX_LEAD_MILLIS = 1_000;

  private final ConcurrentHashMap<String, AtomicLong> last = new ConcurrentHashMap<>();

  /**
   * One stamp: {@link #peek} and {@link #claim} of one.
   *
   * @param deviceId the authenticated device
   * @param receivedAtMillis epoch ms the transport received the message
   * @return epoch ms for the message's records without {@code ts}: after every stamp this device
   *     got before, and not before {@code receivedAtMillis} (but see {@link #MAX_LEAD_MILLIS})
   */
  long next(String deviceId, long receivedAtMillis) {
    AtomicLong stamp = stamp(deviceId);
    while (true) {
      long previous = stamp.get();
      long t = first(previous, receivedAtMillis);
      if (stamp.compareAndSet(previous, t)) {
        return t;
      }
    }
  }

  /**
   * The first stamp the device's next message would get, without taking it: the decoder gives it
   * to the message's first record without {@code ts}, the next one 1 ms later, and so on; then
   * {@link #claim} takes them. A message found to be a resend takes none.
   *
   * @param deviceId the authenticated device
   * @param receivedAtMillis epoch ms the transport received the message
   * @return epoch ms, as {@link #next} would return
   */
  long peek(String deviceId, long receivedAtMillis) {
    return first(stamp(deviceId).get(), receivedAtMillis);
  }

  /**
   * Takes {@code count} stamps from {@code first} (what {@link #peek} gave), unless another
   * message of the device took a stamp meanwhile (two CoAP POSTs of one device on two threads):
   * then nothing is taken and the caller peeks and decodes again.
   *
   * @param deviceId the authenticated device
   * @param receivedAtMillis the same receive time as given to {@link #peek}
   * @param first what {@link #peek} returned
   * @param count stamps the message used (records without {@code ts}); 0 takes none
   * @return false when {@code first} is no longer the device's next stamp
   */
  boolean claim(String deviceId, long receivedAtMillis, long first, int count) {
    AtomicLong stamp = stamp(deviceId);
    long previous = stamp.get();
    if (first(previous, receivedAtMillis) != first) {
      return false;
    }
    return count <= 0 || stamp.compareAndSet(previous, first + count - 1);
  }

  private static long first(long previous, long receivedAtMillis) {
    return previous < receivedAtMillis || previous - receivedAtMillis >= MAX_LEAD_MILLIS
        ? receivedAtMillis : previous + 1;
  }

  private AtomicLong stamp(String deviceId) {
    AtomicLong stamp = last.get(deviceId);
    return stamp != null ? stamp : last.computeIfAbsent(deviceId, k -> new AtomicLong(Long.MIN_VALUE));
  }
}
