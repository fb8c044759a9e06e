package io.safegrid.gateway.ingest;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32C;

/**
 * Per device, the last {@link #PER_DEVICE} messages that carried a {@code seq} (the contract:
 * "{@code seq} optional, per device, for de-duplication"): their (seq, payload hash), when the
 * first of them arrived, and the outcome the transport answers with. A message whose seq AND
 * payload equal one of them is a resend (a QoS 1 PUBLISH sent again after a lost PUBACK, DUP or
 * not; a CoAP CON sent again with a new message id): it gets the first one's outcome (PUBACK /
 * 2.04 when that is durable) and is neither stored nor judged again (newcomer7 F3, review7 R13:
 * a resend of a message without {@code ts} got a new receive time and re-raised an ended leak).
 * The same seq with another payload is no resend (a device that rebooted and counts from 0
 * again): stored and judged.
 *
 * <p>A match is a resend only (review8 R8-8: any match was, however old, so a unit whose seq
 * restarts at boot, or never advances, had real PUBACK'd messages dropped unstored and unjudged):
 * <ul>
 *   <li>within {@link #RESEND_WINDOW_MILLIS} (5 min) of the first one's arrival: a CoAP CON's
 *       copies arrive within EXCHANGE_LIFETIME (247 s, RFC 7252 4.8.2), and an MQTT QoS 1 PUBLISH
 *       is resent only when the client reconnects (MQTT 5.0 4.4, 3.1.1 4.4), i.e. after the lost
 *       link is noticed (1.5 x keepalive at the server, the client's own keepalive: 90 s at a
 *       keepalive of 60 s) and the device has connected again; and
 *   <li>if no message of the device with the same seq and another payload arrived after the
 *       first one: a device that numbers its messages sends a resend's seq only for that message,
 *       while one whose seq stays (0, 0, 0 ...) or restarts at boot sends it again for new
 *       readings (a leak's 70 %LEL, the 0.0 that ended it, the 70 of a new leak: the third one
 *       is a new leak, not a resend of the first).
 * </ul>
 * A resend later than the window is handled as new: stored and judged again (with {@code ts} the
 * rule engine's resend check and {@code readings}' uniqueness still hold it; without, it is a new
 * reading). A device that reboots and within the window sends, with a seq it used among its last
 * 32 messages, byte for byte the same payload with no other payload under that seq in between has
 * that one message taken for a resend (docs/mqtt.md "seq").
 *
 * <p>Why {@value #PER_DEVICE}: an MQTT device has at most Receive Maximum (32 as shipped,
 * docs/mqtt.md) PUBLISH packets unacknowledged, and only those are resent; a CoAP device has one
 * CON outstanding (RFC 7252 4.7, NSTART 1). The payload hash is CRC-32C and a 31-based polynomial
 * over the bytes (64 bits): two different payloads with one seq are taken for one with odds of
 * about 2^-64.
 *
 * <p>A first message whose storage failed (push-back, outage without spool) is forgotten, so
 * the transport's or the device's next offer is handled as new. Not remembered across a gateway
 * restart.
 *
 * <p>Memory: per device that sent a seq, 32 x (four longs + a reference) and the outcomes (a
 * completed future and its result, ~60 bytes each): about 3 KB, 30 MB for 10,000 devices.
 * Thread-safe: one lock per device (its messages come from one MQTT connection, uncontended).
 */
final class RecentSeqs {

  /** Messages with seq remembered per device: MQTT's Receive Maximum as shipped. */
  static final int PER_DEVICE = 32;

  /**
   * How long after the first arrival a match can be a resend, ms (5 min): above CoAP's
   * EXCHANGE_LIFETIME (247 s, RFC 7252 4.8.2) and an MQTT reconnect after a lost link (1.5 x a
   * 60 s keepalive and the device's reconnect).
   */
  static final long RESEND_WINDOW_MILLIS = 5 * 60_000L;

  private final ConcurrentHashMap<String, Ring> devices = new ConcurrentHashMap<>();

  /**
   * The outcome of an earlier message of {@code deviceId} with this seq and payload that this one
   * is a resend of (see the class comment), or null after remembering {@code outcome} as this
   * message's (the caller completes it).
   *
   * @param deviceId the authenticated device
   * @param seq the message's seq (non-negative)
   * @param payloadHash {@link #hash} of the payload
   * @param receivedAtMillis when this message arrived, ms since the epoch (the transport's receive time)
   * @param outcome what a resend of this message will be answered with
   * @return the earlier message's outcome (a resend), or null (remembered: a new message)
   */
  CompletableFuture<IngestResult> resendOf(String deviceId, long seq, long payloadHash, long receivedAtMillis,
      CompletableFuture<IngestResult> outcome) {
    Ring ring = devices.get(deviceId);
    if (ring == null) {
      ring = devices.computeIfAbsent(deviceId, k -> new Ring());
    }
    synchronized (ring) {
      for (int i = 0; i < PER_DEVICE; i++) {
        if (ring.seqs[i] == seq && ring.hashes[i] == payloadHash && ring.outcomes[i] != null
            && receivedAtMillis - ring.arrived[i] <= RESEND_WINDOW_MILLIS
            && !reusedAfter(ring, i)) {
          return ring.outcomes[i];
        }
      }
      int at = ring.next;
      ring.seqs[at] = seq;
      ring.hashes[at] = payloadHash;
      ring.arrived[at] = receivedAtMillis;
      ring.order[at] = ++ring.count;
      ring.outcomes[at] = outcome;
      ring.next = (at + 1) % PER_DEVICE;
      return null;
    }
  }

  /** True if a message with slot {@code i}'s seq and another payload arrived after it. */
  private static boolean reusedAfter(Ring ring, int i) {
    for (int j = 0; j < PER_DEVICE; j++) {
      if (ring.order[j] > ring.order[i] && ring.seqs[j] == ring.seqs[i] && ring.hashes[j] != ring.hashes[i]) {
        return true;
      }
    }
    return false;
  }

  /** Forgets the message remembered with {@code outcome} (its storage failed): its next offer is new. */
  void forget(String deviceId, CompletableFuture<IngestResult> outcome) {
    Ring ring = devices.get(deviceId);
    if (ring == null) {
      return;
    }
    synchronized (ring) {
      for (int i = 0; i < PER_DEVICE; i++) {
        if (ring.outcomes[i] == outcome) {
          ring.outcomes[i] = null;
          ring.seqs[i] = -1;
        }
      }
    }
  }

  /**
   * 64-bit hash of the payload's bytes: CRC-32C (high half) and the 31-based polynomial of
   * {@link java.util.Arrays#hashCode(byte[])} (low half).
   */
  static long hash(byte[] payload) {
    if (payload == null) {
      return 0;
    }
    CRC32C crc = new CRC32C();
    crc.update(payload, 0, payload.length);
    int h = 1;
    for (byte b : payload) {
      h = 31 * h + b;
    }
    return (crc.getValue() << 32) | (h & 0xFFFF_FFFFL);
  }

  private static final class Ring {
    final long[] seqs = new long[PER_DEVICE];
    final long[] hashes = new long[PER_DEVICE];
    final long[] arrived = new long[PER_DEVICE];
    final long[] order = new long[PER_DEVICE]; // 1, 2, ... in arrival order; 0: empty
    @SuppressWarnings("unchecked")
    final CompletableFuture<IngestResult>[] outcomes = new CompletableFuture[PER_DEVICE];
    int next;
    long count;

    Ring() {
      java.util.Arrays.fill(seqs, -1);
    }
  }
}
