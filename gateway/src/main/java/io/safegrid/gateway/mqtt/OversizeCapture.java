package io.safegrid.gateway.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Keeps the start of a refused packet below the decoder, so it can be kept as a dead letter
 * (contract "Delivery promise": bad input is kept with the reason): a PUBLISH over the maximum
 * packet size, whose body the MQTT decoder never buffers, and a packet the decoder found malformed
 * ({@link #packetStart}), whose bytes it discards.
 *
 * <p>Sits below the decoder and passes every byte on untouched. It follows the MQTT framing
 * (fixed header: type and flags, then the remaining length as a variable byte integer, MQTT 3.1.1
 * 2.2.3 / 5.0 1.5.5) and, when a PUBLISH declares more than the maximum, copies the first {@link
 * #CAPTURE_BYTES} of its body (topic, packet id, MQTT 5 properties, then the payload); after that
 * it looks at nothing more. {@link MalformedPacketHandler} asks for the result when the decoder
 * refuses the packet ({@link #whenCaptured}). Memory: at most {@link #CAPTURE_BYTES} per
 * connection, only while such a packet is arriving.
 *
 * <p>For a malformed packet it holds the read being decoded (retained, no copy) while the decoder
 * runs, and copies at most {@link #KEPT_PAYLOAD_BYTES} of a packet that is still arriving when a
 * read ends (most reads end on a packet boundary: nothing is copied), so {@link
 * MalformedPacketHandler} can ask for the first bytes of the packet that failed by its offset in
 * the byte stream.
 */
final class OversizeCapture extends ChannelInboundHandlerAdapter {

  /** Bytes of an oversize PUBLISH body copied: its variable header and the payload's start. */
  static final int CAPTURE_BYTES = 8 * 1024;
  /** Bytes of an oversize PUBLISH payload kept in {@code dead_letters}. */
  static final int KEPT_PAYLOAD_BYTES = 4 * 1024;

  /**
   * What was seen of an oversize PUBLISH.
   *
   * @param declaredBytes its remaining length (variable header + payload), bytes
   * @param topic its topic name, or null if it did not arrive (or is not valid UTF-8)
   * @param payloadStart at most {@link #KEPT_PAYLOAD_BYTES} from the start of its payload (empty if
   *     none arrived)
   * @param maxPacketBytes the maximum it went over, bytes
   */
  record Captured(long declaredBytes, String topic, byte[] payloadStart, int maxPacketBytes) {}

  private final int maxPacketBytes;
  private boolean v5;

  // framing, between packets
  private boolean scanning = true;
  private long bodyLeft;
  private int headerBytes;
  private int firstByte;
  private long remaining;
  private int shift;

  // the oversize PUBLISH
  private byte[] capture;
  private int captured;
  private long declared;
  private int publishFlags;
  private Consumer<Captured> waiter;
  private ScheduledFuture<?> timeout;

  // the packet being read, for a malformed packet's dead letter
  /** Stream offset of the first byte of the next read. */
  private long offset;
  /** Stream offset of the first byte of the packet being framed. */
  private long packetStart;
  /** The read being decoded now (retained), null between reads. */
  private ByteBuf reading;
  private int readingIndex;
  private long readingStart;
  /** Bytes of a packet still arriving at the end of earlier reads, from {@link #carryStart}; or null. */
  private byte[] carry;
  private long carryStart;

  /**
   * @param maxPacketBytes the decoder's maximum remaining length, bytes
   */
  OversizeCapture(int maxPacketBytes) {
    this.maxPacketBytes = maxPacketBytes;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (!(msg instanceof ByteBuf)) {
      ctx.fireChannelRead(msg);
      return;
    }
    ByteBuf b = (ByteBuf) msg;
    int from = b.readerIndex();
    int length = b.readableBytes();
    long start = offset;
    offset += length;
    if (scanning) {
      scan(b, start);
    }
    // the decoder may merge it into its buffer and release it: held until it is done with it
    reading = b.retain();
    readingIndex = from;
    readingStart = start;
    try {
      ctx.fireChannelRead(msg);
    } finally {
      reading = null;
      carryOver(b, from, start, length);
      b.release();
    }
  }

  /** After a read: keeps at most {@link #KEPT_PAYLOAD_BYTES} of a packet that is still arriving. */
  private void carryOver(ByteBuf b, int from, long start, int length) {
    boolean midPacket = scanning && (headerBytes > 0 || bodyLeft > 0);
    if (!midPacket) {
      carry = null;
      return;
    }
    long end = start + length;
    if (packetStart >= start) {
      int n = (int) Math.min(KEPT_PAYLOAD_BYTES, end - packetStart);
      carry = new byte[n];
      carryStart = packetStart;
      b.getBytes(from + (int) (packetStart - start), carry, 0, n);
    } else if (carry != null && carryStart == packetStart && carry.length < KEPT_PAYLOAD_BYTES
        && carryStart + carry.length == start) {
      int n = (int) Math.min(KEPT_PAYLOAD_BYTES - carry.length, length);
      byte[] more = Arrays.copyOf(carry, carry.length + n);
      b.getBytes(from, more, carry.length, n);
      carry = more;
    }
  }

  /**
   * At most {@code max} bytes of the byte stream from offset {@code at} (the start of a packet the
   * decoder refused), from what is still at hand: the read being decoded and the start of a packet
   * that began in an earlier read. Empty if none of it is at hand any more.
   *
   * @param at stream offset, bytes since the connection opened (after TLS)
   */
  byte[] packetStart(long at, int max) {
    byte[] out = new byte[max];
    int n = 0;
    long next = at;
    if (carry != null && next >= carryStart && next < carryStart + carry.length) {
      int k = (int) Math.min(max, carryStart + carry.length - next);
      System.arraycopy(carry, (int) (next - carryStart), out, 0, k);
      n = k;
      next += k;
    }
    ByteBuf r = reading;
    if (r != null && n < max && next >= readingStart && next < offset) {
      int k = (int) Math.min(max - n, offset - next);
      r.getBytes(readingIndex + (int) (next - readingStart), out, n, k);
      n += k;
    }
    return n == max ? out : Arrays.copyOf(out, n);
  }

  private void scan(ByteBuf b, long start) {
    int from = b.readerIndex();
    int i = from;
    int end = b.writerIndex();
    while (i < end && scanning) {
      if (capture != null) {
        int n = Math.min(end - i, capture.length - captured);
        b.getBytes(i, capture, captured, n);
        captured += n;
        i += n;
        if (captured == capture.length) {
          scanning = false;
          deliver();
        }
        return;
      }
      if (bodyLeft > 0) {
        long n = Math.min(bodyLeft, end - i);
        bodyLeft -= n;
        i += (int) n;
        continue;
      }
      int v = b.getUnsignedByte(i++);
      if (headerBytes == 0) {
        packetStart = start + (i - 1 - from);
        firstByte = v;
        headerBytes = 1;
        remaining = 0;
        shift = 0;
        continue;
      }
      headerBytes++;
      remaining |= (long) (v & 0x7F) << shift;
      shift += 7;
      if ((v & 0x80) != 0) {
        if (headerBytes >= 5) {
          scanning = false; // malformed length: the decoder ends the connection
        }
        continue;
      }
      headerBytes = 0;
      if (remaining <= maxPacketBytes) {
        bodyLeft = remaining;
      } else if ((firstByte >> 4) == 3) {
        declared = remaining;
        publishFlags = firstByte & 0x0F;
        capture = new byte[(int) Math.min(remaining, CAPTURE_BYTES)];
        if (capture.length == 0) {
          scanning = false;
        }
      } else {
        scanning = false; // too large but not a PUBLISH: nothing to keep
      }
    }
  }

  /**
   * Calls {@code then} on the event loop with what arrived of the oversize PUBLISH once {@link
   * #CAPTURE_BYTES} of it are in, the connection ends, or {@code waitMillis} pass, whichever is
   * first; with null if no oversize PUBLISH was seen.
   *
   * @param v5 whether the connection is MQTT 5 (a properties field follows the packet id)
   */
  void whenCaptured(ChannelHandlerContext ctx, boolean v5, long waitMillis, Consumer<Captured> then) {
    this.v5 = v5;
    this.waiter = then;
    if (capture == null || !scanning || !ctx.channel().isActive()) {
      deliver();
      return;
    }
    timeout = ctx.executor().schedule(this::deliver, waitMillis, TimeUnit.MILLISECONDS);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    scanning = false;
    deliver();
    super.channelInactive(ctx);
  }

  private void deliver() {
    Consumer<Captured> w = waiter;
    if (w == null) {
      return;
    }
    waiter = null;
    scanning = false;
    if (timeout != null) {
      timeout.cancel(false);
    }
    w.accept(capture == null ? null : parse());
  }

  /** Topic and payload start out of the captured body (MQTT 3.1.1 3.3.2, 5.0 3.3.2). */
  private Captured parse() {
    byte[] c = capture;
    int n = captured;
    if (n < 2) {
      return new Captured(declared, null, new byte[0], maxPacketBytes);
    }
    int topicLength = ((c[0] & 0xFF) << 8) | (c[1] & 0xFF);
    int pos = 2 + topicLength;
    if (pos > n) {
      return new Captured(declared, null, new byte[0], maxPacketBytes);
    }
    String topic = utf8(c, 2, topicLength);
    if (((publishFlags >> 1) & 0x03) > 0) {
      pos += 2; // packet id
    }
    if (v5) {
      int propertiesLength = 0;
      int s = 0;
      while (true) {
        if (pos >= n || s > 21) {
          return new Captured(declared, topic, new byte[0], maxPacketBytes);
        }
        int v = c[pos++] & 0xFF;
        propertiesLength |= (v & 0x7F) << s;
        s += 7;
        if ((v & 0x80) == 0) {
          break;
        }
      }
      pos += propertiesLength;
    }
    if (pos >= n) {
      return new Captured(declared, topic, new byte[0], maxPacketBytes);
    }
    return new Captured(declared, topic, Arrays.copyOfRange(c, pos, Math.min(n, pos + KEPT_PAYLOAD_BYTES)),
        maxPacketBytes);
  }

  private static String utf8(byte[] b, int off, int len) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(b, off, len))
          .toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return null;
    }
  }
}
