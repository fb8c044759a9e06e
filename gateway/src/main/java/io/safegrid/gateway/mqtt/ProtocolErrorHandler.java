package io.safegrid.gateway.mqtt;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttReasonCodes;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last in the pipeline: a packet no handler took is one a client must not send to this server
 * (PUBACK, PUBREC, PUBCOMP for messages never sent to it, AUTH...): a protocol error, the
 * connection closes (reject {@code protocol_error}). Packets only a server sends (CONNACK, SUBACK,
 * UNSUBACK, PINGRESP) are refused, and kept as dead letters, earlier by {@link
 * MalformedPacketHandler}, while their bytes are still at hand. Exceptions close the connection.
 */
final class ProtocolErrorHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(ProtocolErrorHandler.class);

  private final MqttMetrics metrics;

  ProtocolErrorHandler(MqttMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Session session = Session.of(ctx.channel());
    String type = msg instanceof MqttMessage ? String.valueOf(((MqttMessage) msg).fixedHeader().messageType()) : msg.getClass().getSimpleName();
    ReferenceCountUtil.release(msg);
    metrics.reject("protocol_error");
    log.info("{}: unexpected {}, closing", MalformedPacketHandler.who(ctx, session), type);
    session.disconnect(PresenceEvent.Reason.PROTOCOL_ERROR, MqttReasonCodes.Disconnect.PROTOCOL_ERROR);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Session session = Session.of(ctx.channel());
    if (cause instanceof IOException || cause.getCause() instanceof javax.net.ssl.SSLException) {
      log.debug("{}: {}", MalformedPacketHandler.who(ctx, session), cause.toString());
    } else {
      log.warn("{}: closing after error", MalformedPacketHandler.who(ctx, session), cause);
    }
    if (session != null && session.closeReason == null) {
      session.closeReason = PresenceEvent.Reason.CONNECTION_LOST;
    }
    if (session != null) {
      session.close();
    } else {
      ctx.close();
    }
  }
}
