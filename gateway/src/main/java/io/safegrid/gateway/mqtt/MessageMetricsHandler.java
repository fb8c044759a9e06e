package io.safegrid.gateway.mqtt;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttMessage;

/** Counts well-formed packets received by type ({@code safegrid.mqtt.messages}). */
@ChannelHandler.Sharable
final class MessageMetricsHandler extends ChannelInboundHandlerAdapter {

  private final MqttMetrics metrics;

  MessageMetricsHandler(MqttMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof MqttMessage) {
      metrics.message(((MqttMessage) msg).fixedHeader().messageType());
    }
    ctx.fireChannelRead(msg);
  }
}
