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
 * Keeps the start of a PUBLISH over the maximum packet size, so it can be kept as a dead letter
 * (contract "Delivery promise": bad input is kept with the reason) although the MQTT decoder
 * never buffers its body.
 *
 * <p>Sits below the decoder and passes every byte on untouched. It follows the MQTT framing
 * (fixed header: type and flags, then the remaining length as a variable byte integer, MQTT 3.1.1
 * 2.2.3 / 5.0 1.5.5) and, when a PUBLISH declares more than the maximum, copies the first {@link
 * #CAPTURE_BYTES} of its body (topic, packet id, MQTT 5 properties, then the payload); after that
 * it looks at nothing more. {@link MalformedPacketHandler} asks for the result when the decoder
 * refuses the packet ({@link #whenCaptured}). Memory: at most {@link #CAPTURE_BYTES} per
 * connection, only while such a packet is arriving.
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

  /**
   * @param maxPacketBytes the decoder's maximum remaining length, bytes
   */
  OversizeCapture(int maxPacketBytes) {
    this.maxPacketBytes = maxPacketBytes;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (scanning && msg instanceof ByteBuf) {
      scan((ByteBuf) msg);
    }
    ctx.fireChannelRead(msg);
  }

  private void scan(ByteBuf b) {
    int i = b.readerIndex();
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
