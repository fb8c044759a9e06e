package io.safegrid.sim.link.netty;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * MQTT keepalive (MQTT 3.1.1 3.1.2.10, MQTT 5 3.1.2.10) on the device side: when the connection
 * wrote nothing for the keepalive interval it sends PINGREQ; when it read nothing (not even
 * PINGRESP) for twice the interval the far end is gone and it closes the connection. The timers
 * come from the {@code IdleStateHandler} before it. Stateless, shared by every connection.
 */
@Sharable
final class KeepaliveHandler extends ChannelInboundHandlerAdapter {

  static final KeepaliveHandler INSTANCE = new KeepaliveHandler();

  private KeepaliveHandler() {}

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent idle) {
      if (idle.state() == IdleState.WRITER_IDLE) {
        ctx.writeAndFlush(MqttMessage.PINGREQ).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
      } else if (idle.state() == IdleState.READER_IDLE) {
        ctx.close();
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }
}
