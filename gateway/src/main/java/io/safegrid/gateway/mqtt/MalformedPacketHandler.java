package io.safegrid.gateway.mqtt;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttConnectVariableHeader;
import io.netty.handler.codec.mqtt.MqttIdentifierRejectedException;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttReasonCodes;
import io.netty.handler.codec.mqtt.MqttUnacceptableProtocolVersionException;
import io.netty.util.ReferenceCountUtil;
import io.safegrid.gateway.ingest.DeadLetters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the connection on a malformed packet; nothing of it goes further up the pipeline.
 *
 * <p>Netty's {@code MqttDecoder} (strict UTF-8 on) already fails, with a {@link DecoderResult}
 * failure, and then discards every further byte of the connection: a packet longer than the
 * maximum (it reads only the fixed header, never buffers the body), wildcards in a PUBLISH topic,
 * invalid UTF-8 or U+0000 in a string (MQTT 3.1.1 1.5.3), bytes left over after a packet's
 * declared fields, reserved flag bits, a QoS 3, packet id 0. This handler turns that into the
 * protocol's answer: MQTT 5 DISCONNECT 0x95 (packet too large) or 0x81 (malformed packet), CONNACK
 * 0x01 / 0x02 for a bad protocol version / client id, then close; counted as rejects {@code
 * packet_too_large} or {@code malformed}. A malformed packet of a connected device is kept as a
 * dead letter (source {@code mqtt:malformed}) with its first {@link #KEPT_PACKET_BYTES} bytes as far
 * as they had arrived ({@link OversizeCapture#packetStart}, located by the bytes the packets before
 * it took) and the decoder's reason. An oversize PUBLISH of a connected device is kept as a
 * dead letter first: the connection stays open (its bytes read and discarded) until {@link
 * OversizeCapture} has its first 8 KiB or {@link #CAPTURE_WAIT_MILLIS} pass, then the start of its
 * payload goes to {@link PublishHandler} as a user event and the connection ends as above.
 *
 * <p>Two packets the decoder accepts are judged here too, while their bytes are at hand, so that a
 * connected device's are kept like any malformed packet: a second CONNECT (a protocol error, MQTT
 * 3.1.1 / 5.0 3.1.0-2: reject and dead letter {@code protocol_error}, MQTT 5 DISCONNECT 0x82) and a
 * PUBLISH with an empty topic (3.1.1 4.7.3-1, 5.0 3.3.2.1: reject and dead letter {@code
 * malformed}, MQTT 5 DISCONNECT 0x82).
 *
 * <p>Checked in netty-codec-mqtt 4.2.18 (EmbeddedChannel, 2026-11-29): a PINGREQ with a body
 * ({@code C0 02 D0 00}) already fails in the decoder ("non-zero remaining payload bytes"). Added
 * here, because the decoder reads what it needs and lets the rest through: on MQTT 3.1.1 a
 * DISCONNECT not of length 0 (3.14.1) and a PUBACK / PUBREC / PUBREL / PUBCOMP / UNSUBACK not of
 * length 2 (3.4.1, 3.5.1, 3.6.1, 3.7.1, 3.11.1), which MQTT 5 lets carry a reason code and
 * properties; PINGREQ / PINGRESP of length other than 0 are refused here too, should a future
 * decoder relax.
 */
final class MalformedPacketHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(MalformedPacketHandler.class);

  /**
   * How long an oversize PUBLISH's connection stays open (read and discarded) for its first {@link
   * OversizeCapture#CAPTURE_BYTES} to arrive, ms.
   */
  static final long CAPTURE_WAIT_MILLIS = 1000;

  /** Bytes of a malformed packet kept in {@code dead_letters}: as many as of an oversize payload. */
  static final int KEPT_PACKET_BYTES = OversizeCapture.KEPT_PAYLOAD_BYTES;

  private final MqttMetrics metrics;
  private final DeadLetters deadLetters;
  /** Bytes of the stream taken by the packets decoded so far: where the next packet starts. */
  private long decodedBytes;

  MalformedPacketHandler(MqttMetrics metrics, DeadLetters deadLetters) {
    this.metrics = metrics;
    this.deadLetters = deadLetters;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof MqttMessage)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    MqttMessage m = (MqttMessage) msg;
    DecoderResult result = m.decoderResult();
    long packetAt = decodedBytes;
    if ((result == null || result.isSuccess()) && m.fixedHeader() != null) {
      int rl = m.fixedHeader().remainingLength();
      decodedBytes += 1 + (rl < 128 ? 1 : rl < 16_384 ? 2 : rl < 2_097_152 ? 3 : 4) + rl;
    }
    Session session = Session.of(ctx.channel());
    if (session.closing) {
      // the server decided to end the connection; packets decoded as the client closed (the
      // last bytes at EOF) are still judged and passed on (InboundGate)
      ReferenceCountUtil.release(msg);
      return;
    }
    if (result != null && result.isFailure()) {
      ReferenceCountUtil.release(msg);
      failed(ctx, session, m, result.cause(), packetAt);
      return;
    }
    int expected = m.fixedHeader() == null ? -1 : fixedLength(m.fixedHeader().messageType(), session);
    MqttMessageType type = m.fixedHeader() == null ? null : m.fixedHeader().messageType();
    if (expected >= 0 && m.fixedHeader().remainingLength() != expected) {
      refuse(ctx, session, m, packetAt, "malformed", type + " with a body",
          "remaining length " + m.fixedHeader().remainingLength() + ", but a " + type + " has " + expected
              + " on MQTT " + (session.v5() ? "5" : "3.1.1"),
          MqttReasonCodes.Disconnect.MALFORMED_PACKET);
      return;
    }
    if (session.connected && serverToClientOnly(type)) {
      // MQTT 5.0 4.13.2 / 3.1.1 4.8: a packet only a server sends is a protocol error from a client
      refuse(ctx, session, m, packetAt, "protocol_error", type + " from a client",
          "a " + type + " goes from a server to a client, never to a server", MqttReasonCodes.Disconnect.PROTOCOL_ERROR);
      return;
    }
    if (session.connected && type == MqttMessageType.CONNECT) {
      // MQTT 3.1.1 3.1.0-2 / 5.0 3.1.0-2: a second CONNECT is a protocol error. Judged here, while
      // the packet's bytes are at hand, to keep them; one in the same read as the first CONNECT
      // (before CONNACK) goes on to ConnectHandler, which refuses it without keeping it.
      refuse(ctx, session, m, packetAt, "protocol_error", "second CONNECT",
          "a second CONNECT on a connected session (MQTT 3.1.1 3.1.0-2, MQTT 5.0 3.1.0-2)",
          MqttReasonCodes.Disconnect.PROTOCOL_ERROR);
      return;
    }
    if (session.connected && emptyTopic(m)) {
      // MQTT 3.1.1 4.7.3-1: a topic name has at least one character; MQTT 5.0 3.3.2.1: a zero
      // length topic without a Topic Alias (not supported: Topic Alias Maximum 0) is a protocol
      // error. Judged here, while the packet's bytes are at hand, to keep them (PublishHandler
      // refuses one that came before CONNACK, without keeping it).
      refuse(ctx, session, m, packetAt, "malformed", "PUBLISH with an empty topic",
          "PUBLISH with an empty topic name (MQTT 3.1.1 4.7.3-1; MQTT 5.0 3.3.2.1, no Topic Alias)",
          MqttReasonCodes.Disconnect.PROTOCOL_ERROR);
      return;
    }
    ctx.fireChannelRead(msg);
  }

  /**
   * Ends the connection on a decoded packet the server refuses: counted in {@code rejects{reason=
   * tag}}, logged, kept as a dead letter ({@link #keep}), MQTT 5 DISCONNECT {@code code} (3.1.1:
   * closed).
   */
  private void refuse(ChannelHandlerContext ctx, Session session, MqttMessage m, long packetAt, String tag,
      String what, String why, MqttReasonCodes.Disconnect code) {
    ReferenceCountUtil.release(m);
    metrics.reject(tag);
    log.info("{}: {}, closing", who(ctx, session), what);
    keep(ctx, session, m, why, packetAt, tag, code);
    session.disconnect(PresenceEvent.Reason.PROTOCOL_ERROR, code);
  }

  private static boolean emptyTopic(MqttMessage m) {
    if (!(m instanceof MqttPublishMessage)) {
      return false;
    }
    String topic = ((MqttPublishMessage) m).variableHeader().topicName();
    return topic == null || topic.isEmpty();
  }

  /** Packet types a server sends and never accepts (MQTT 3.1.1 2.2.1, 5.0 2.1.2). */
  private static boolean serverToClientOnly(MqttMessageType type) {
    return type == MqttMessageType.CONNACK || type == MqttMessageType.SUBACK
        || type == MqttMessageType.UNSUBACK || type == MqttMessageType.PINGRESP;
  }

  /** The only remaining length a packet type may have, or -1 if it varies. */
  private static int fixedLength(MqttMessageType type, Session session) {
    switch (type) {
      case PINGREQ:
      case PINGRESP:
        return 0;
      case DISCONNECT:
        return session.v5() ? -1 : 0;
      case PUBACK:
      case PUBREC:
      case PUBREL:
      case PUBCOMP:
      case UNSUBACK:
        return session.v5() ? -1 : 2;
      default:
        return -1;
    }
  }

  private void failed(ChannelHandlerContext ctx, Session session, MqttMessage m, Throwable cause, long packetAt) {
    if (cause instanceof TooLongFrameException) {
      metrics.reject("packet_too_large");
      log.info("{}: packet too large ({}), closing", who(ctx, session), cause.getMessage());
      OversizeCapture capture = ctx.pipeline().get(OversizeCapture.class);
      if (session.connected && capture != null && m.fixedHeader() != null
          && m.fixedHeader().messageType() == MqttMessageType.PUBLISH) {
        // keep the start of it as a dead letter (PublishHandler); the decoder discards the rest
        session.closing = true;
        capture.whenCaptured(ctx, session.v5(), CAPTURE_WAIT_MILLIS, captured -> {
          if (captured != null) {
            ctx.fireUserEventTriggered(captured);
          }
          session.disconnect(PresenceEvent.Reason.PROTOCOL_ERROR, MqttReasonCodes.Disconnect.PACKET_TOO_LARGE);
        });
        return;
      }
      session.disconnect(PresenceEvent.Reason.PROTOCOL_ERROR, MqttReasonCodes.Disconnect.PACKET_TOO_LARGE);
      return;
    }
    if (!session.connected && (cause instanceof MqttUnacceptableProtocolVersionException
        || cause instanceof MqttIdentifierRejectedException)) {
      boolean v5 =
          m.variableHeader() instanceof MqttConnectVariableHeader
              && ((MqttConnectVariableHeader) m.variableHeader()).version() == 5;
      MqttConnectReturnCode code;
      if (cause instanceof MqttUnacceptableProtocolVersionException) {
        metrics.reject("unsupported_protocol");
        code = MqttConnectReturnCode.CONNECTION_REFUSED_UNACCEPTABLE_PROTOCOL_VERSION;
      } else {
        metrics.reject("client_id_rejected");
        code = v5 ? MqttConnectReturnCode.CONNECTION_REFUSED_CLIENT_IDENTIFIER_NOT_VALID
            : MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED;
      }
      log.info("{}: CONNECT refused ({}): {}", who(ctx, session), code, cause.getMessage());
      session.closing = true;
      // from the tail, so the outbound packet count sees it
      ctx.channel().writeAndFlush(MqttMessageBuilders.connAck().returnCode(code).sessionPresent(false).build())
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    metrics.reject("malformed");
    log.info("{}: malformed packet ({}), closing", who(ctx, session), cause.toString());
    keep(ctx, session, m, cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage(),
        packetAt, "malformed", MqttReasonCodes.Disconnect.MALFORMED_PACKET);
    session.disconnect(PresenceEvent.Reason.PROTOCOL_ERROR, MqttReasonCodes.Disconnect.MALFORMED_PACKET);
  }

  /**
   * Keeps the first {@link #KEPT_PACKET_BYTES} of a malformed packet (or, {@code tag} {@code
   * protocol_error}, one only a server sends, or a second CONNECT) of a connected device as a dead letter (source {@code
   * mqtt:TAG}, reason: the packet type, why and what the server did), counted (once durable) as
   * {@code safegrid.mqtt.dead_letters{reason=TAG}}. Before
   * CONNACK nothing is kept: no device is known, and whoever reaches the port could fill the
   * table (counted in {@code rejects} and logged only).
   */
  private void keep(ChannelHandlerContext ctx, Session session, MqttMessage m, String why, long packetAt,
      String tag, MqttReasonCodes.Disconnect v5Disconnect) {
    if (!session.connected || session.deviceId == null) {
      return;
    }
    OversizeCapture capture = ctx.pipeline().get(OversizeCapture.class);
    byte[] start = capture == null ? new byte[0] : capture.packetStart(packetAt, KEPT_PACKET_BYTES);
    String secretsLeftOut = "";
    if (m.fixedHeader() != null && m.fixedHeader().messageType() == MqttMessageType.CONNECT) {
      start = java.util.Arrays.copyOf(start, connectHeaderLength(start));
      secretsLeftOut = ", its header only: client id, will, user name and password are not kept";
    }
    String type = m.fixedHeader() != null
        ? m.fixedHeader().messageType().name()
        : start.length > 0 ? "packet type " + ((start[0] & 0xF0) >> 4) : "packet";
    if (why.length() > 300) {
      why = why.substring(0, 300) + "...";
    }
    boolean malformed = tag.equals("malformed");
    deadLetters.keep(session.deviceId, "mqtt:" + tag, start, tag,
        (malformed ? "malformed MQTT packet (" : "MQTT protocol error (") + type
            + (start.length > 0 ? String.format(", first byte 0x%02X", start[0]) : "") + "): " + why + " ("
            + (session.v5() ? String.format("MQTT 5.0 4.13: DISCONNECT 0x%02X", v5Disconnect.byteValue() & 0xFF) : "MQTT 3.1.1 4.8: connection closed")
            + "), not processed; kept its first " + start.length + " bytes (at most " + KEPT_PACKET_BYTES
            + secretsLeftOut + ")");
  }

  /**
   * How many of a CONNECT's first bytes to keep: its fixed header, protocol name, level, flags
   * and keepalive (MQTT 3.1.1 3.1.2, 5.0 3.1.2), not the MQTT 5 properties (authentication data)
   * nor the payload (client id, will, user name, password: a secret must not reach {@code
   * dead_letters}). At most {@code packet.length}.
   */
  static int connectHeaderLength(byte[] packet) {
    int i = 1;
    while (i < packet.length && i < 4 && (packet[i] & 0x80) != 0) {
      i++;
    }
    i++; // the remaining length's last byte
    if (i + 2 > packet.length) {
      return Math.min(i, packet.length);
    }
    int nameLength = ((packet[i] & 0xFF) << 8) | (packet[i + 1] & 0xFF);
    return Math.min(i + 2 + nameLength + 4, packet.length); // name, level, flags, keepalive
  }

  static String who(ChannelHandlerContext ctx, Session session) {
    return session != null && session.deviceId != null
        ? "device " + session.deviceId
        : String.valueOf(ctx.channel().remoteAddress());
  }
}
