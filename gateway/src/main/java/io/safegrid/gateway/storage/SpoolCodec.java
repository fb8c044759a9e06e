package io.safegrid.gateway.storage;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Encodes submissions into a spool record body and decodes a body back into a {@link Batch}.
 *
 * <p>Body: version byte 1, then entries until the end, each a kind byte: 1 readings ({@code int n},
 * then n times device, metric, {@code long} time ms, {@code double} value, {@code long} seq), 2 a
 * device event (device, {@code long} time ms, event, zone, point, text), 3 a dead letter ({@code
 * long} received ms, device, source, reason, payload). Strings are {@code int} length (-1 for
 * null) and UTF-8; nullable ints a presence byte then {@code int}. Big-endian.
 */
final class SpoolCodec {
  private static final byte VERSION = 1;

  private byte[] buf = new byte[1 << 16];
  private int len;

  void reset() {
    len = 0;
    ensure(1);
    buf[len++] = VERSION;
  }

  int length() {
    return len;
  }

  byte[] buffer() {
    return buf;
  }

  /** Truncates back to a length got from {@link #length()} (drops a submission that did not fit). */
  void truncate(int length) {
    len = length;
  }

  void add(Submission s) {
    if (!s.readings.isEmpty()) {
      putByte(1);
      putInt(s.readings.size());
      for (Reading r : s.readings) {
        putString(r.deviceId());
        putString(r.metric());
        putLong(r.timeMillis());
        putLong(Double.doubleToRawLongBits(r.value()));
        putLong(r.seq());
      }
    }
    if (s.event != null) {
      DeviceEvent e = s.event;
      putByte(2);
      putString(e.deviceId());
      putLong(e.timeMillis());
      putString(e.event());
      putNullableInt(e.zone());
      putNullableInt(e.point());
      putString(e.text());
    }
    if (s.deadLetter != null) {
      DeadLetter d = s.deadLetter;
      putByte(3);
      putLong(d.receivedAtMillis());
      putString(d.deviceId());
      putString(d.source());
      putString(d.reason());
      putBytes(d.payload());
    }
  }

  /** Decodes a body into {@code into}. @throws IllegalArgumentException when malformed */
  static void decode(byte[] body, Batch into) {
    visit(body, into.readings::addAll, into.events::add, into.deadLetters::add);
  }

  /**
   * Decodes a body entry by entry, in the order they were appended: each readings entry is one
   * submission's readings (one message's), each event one device event.
   *
   * @throws IllegalArgumentException when malformed (entries before the fault were handed on)
   */
  static void visit(byte[] body, Consumer<List<Reading>> readings, Consumer<DeviceEvent> events,
      Consumer<DeadLetter> deadLetters) {
    ByteBuffer b = ByteBuffer.wrap(body);
    try {
      if (b.get() != VERSION) throw new IllegalArgumentException("unknown spool record version");
      while (b.hasRemaining()) {
        int kind = b.get();
        switch (kind) {
          case 1 -> {
            int n = b.getInt();
            List<Reading> message = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
              message.add(new Reading(getString(b), getString(b), b.getLong(),
                  Double.longBitsToDouble(b.getLong()), b.getLong()));
            }
            readings.accept(message);
          }
          case 2 -> events.accept(new DeviceEvent(getString(b), b.getLong(), getString(b),
              getNullableInt(b), getNullableInt(b), getString(b)));
          case 3 -> deadLetters.accept(new DeadLetter(b.getLong(), getString(b), getString(b),
              getString(b), getBytes(b)));
          default -> throw new IllegalArgumentException("unknown spool entry kind " + kind);
        }
      }
    } catch (RuntimeException e) {
      if (e instanceof IllegalArgumentException) throw e;
      throw new IllegalArgumentException("malformed spool record: " + e, e);
    }
  }

  private static String getString(ByteBuffer b) {
    byte[] bytes = getBytes(b);
    return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
  }

  private static byte[] getBytes(ByteBuffer b) {
    int n = b.getInt();
    if (n < 0) return null;
    byte[] bytes = new byte[n];
    b.get(bytes);
    return bytes;
  }

  private static Integer getNullableInt(ByteBuffer b) {
    return b.get() == 0 ? null : b.getInt();
  }

  private void putString(String s) {
    putBytes(s == null ? null : s.getBytes(StandardCharsets.UTF_8));
  }

  private void putBytes(byte[] bytes) {
    if (bytes == null) {
      putInt(-1);
      return;
    }
    putInt(bytes.length);
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, len, bytes.length);
    len += bytes.length;
  }

  private void putNullableInt(Integer v) {
    if (v == null) {
      putByte(0);
    } else {
      putByte(1);
      putInt(v);
    }
  }

  private void putByte(int v) {
    ensure(1);
    buf[len++] = (byte) v;
  }

  private void putInt(int v) {
    ensure(4);
    buf[len++] = (byte) (v >>> 24);
    buf[len++] = (byte) (v >>> 16);
    buf[len++] = (byte) (v >>> 8);
    buf[len++] = (byte) v;
  }

  private void putLong(long v) {
    putInt((int) (v >>> 32));
    putInt((int) v);
  }

  private void ensure(int more) {
    if (len + more > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
  }
}
