package io.safegrid.sim.link.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader;
import io.netty.util.concurrent.ScheduledFuture;
import io.safegrid.sim.link.DeviceLink;
import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The device's side of the MQTT session, one per connection: sends CONNECT when TCP is up and
 * waits for CONNACK (bounded), then routes PUBACK / PUBREC / PUBCOMP to the link's unanswered
 * publishes; a server DISCONNECT (MQTT 5) is remembered as the reason; a packet the decoder could
 * not read ends the connection.
 */
final class MqttSessionHandler extends SimpleChannelInboundHandler<MqttMessage> {

  private final NettyMqttLink link;
  private ScheduledFuture<?> connAckTimeout;

  MqttSessionHandler(NettyMqttLink link) {
    this.link = link;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.writeAndFlush(link.connectMessage());
    connAckTimeout = ctx.executor().schedule(() -> {
      link.onConnectFailed(new IOException("no CONNACK from " + ctx.channel().remoteAddress() + " within "
          + link.connAckTimeoutMillis() + " ms"));
      ctx.close();
    }, link.connAckTimeoutMillis(), TimeUnit.MILLISECONDS);
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancelTimeout();
    link.onClosed();
    ctx.fireChannelInactive();
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, MqttMessage msg) {
    if (msg.decoderResult().isFailure()) {
      link.onDisconnectReason("unreadable packet from the far end: " + msg.decoderResult().cause().getMessage());
      ctx.close();
      return;
    }
    switch (msg.fixedHeader().messageType()) {
      case CONNACK -> onConnAck(ctx, (MqttConnAckMessage) msg);
      case PUBACK -> link.onAck(packetId(msg), reasonCode(msg), "PUBACK");
      case PUBREC -> link.onPubRec(ctx.channel(), packetId(msg), reasonCode(msg));
      case PUBCOMP -> link.onAck(packetId(msg), reasonCode(msg), "PUBCOMP");
      case DISCONNECT -> {
        Object v = msg.variableHeader();
        int code = v instanceof MqttReasonCodeAndPropertiesVariableHeader r ? r.reasonCode() & 0xff : 0;
        link.onDisconnectReason("server DISCONNECT reason code 0x" + Integer.toHexString(code));
        ctx.close();
      }
      default -> {
        // PINGRESP: the idle handler saw the read; PUBLISH: no subscriptions, nothing expected
      }
    }
  }

  private void onConnAck(ChannelHandlerContext ctx, MqttConnAckMessage ack) {
    cancelTimeout();
    MqttConnectReturnCode code = ack.variableHeader().connectReturnCode();
    if (code == MqttConnectReturnCode.CONNECTION_ACCEPTED) {
      link.onConnAck(ctx.channel());
      return;
    }
    String reason = "CONNACK 0x" + String.format(Locale.ROOT, "%02x", code.byteValue() & 0xff) + " "
        + code.name().replace("CONNECTION_REFUSED_", "").toLowerCase(Locale.ROOT).replace('_', ' ');
    link.onDisconnectReason(reason);
    link.onConnectFailed(new DeviceLink.Refused(link.deviceId() + " refused: " + reason));
    ctx.close();
  }

  private static int packetId(MqttMessage msg) {
    return ((MqttMessageIdVariableHeader) msg.variableHeader()).messageId();
  }

  private static int reasonCode(MqttMessage msg) {
    return msg.variableHeader() instanceof MqttPubReplyMessageVariableHeader r ? r.reasonCode() & 0xff : 0;
  }

  private void cancelTimeout() {
    if (connAckTimeout != null) {
      connAckTimeout.cancel(false);
      connAckTimeout = null;
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    link.onDisconnectReason(cause.toString());
    ctx.close();
  }
}
