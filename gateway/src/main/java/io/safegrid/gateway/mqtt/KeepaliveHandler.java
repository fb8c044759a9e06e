package io.safegrid.gateway.mqtt;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttReasonCodes;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keepalive: answers PINGREQ with PINGRESP, and closes the connection when the {@link
 * io.netty.handler.timeout.IdleStateHandler} in front of the codec saw no packet for its time:
 * before CONNECT the connect timeout, after it 1.5 x the keepalive (MQTT 3.1.1 3.1.2.10, MQTT 5.0
 * 3.1.2.10). Any packet resets the timer. While the server itself has stopped reading the socket
 * (back-pressure), silence is not the client's fault and does not close.
 */
final class KeepaliveHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(KeepaliveHandler.class);

  private final MqttMetrics metrics;

  KeepaliveHandler(MqttMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    MqttMessage m = (MqttMessage) msg;
    if (m.fixedHeader().messageType() == MqttMessageType.PINGREQ) {
      ReferenceCountUtil.release(msg);
      ctx.writeAndFlush(MqttMessage.PINGRESP);
      return;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      InboundGate gate = ctx.pipeline().get(InboundGate.class);
      if (gate != null && gate.isPaused()) {
        return;
      }
      Session session = Session.of(ctx.channel());
      if (!session.connected) {
        metrics.reject("connect_timeout");
        log.info("{}: no CONNECT in time, closing", ctx.channel().remoteAddress());
        session.close();
        return;
      }
      metrics.reject("keepalive_timeout");
      log.info("device {}: keepalive {} s expired, closing", session.deviceId, session.keepaliveSeconds);
      session.disconnect(PresenceEvent.Reason.KEEPALIVE_TIMEOUT, MqttReasonCodes.Disconnect.KEEP_ALIVE_TIMEOUT);
      return;
    }
    super.userEventTriggered(ctx, evt);
  }
}
