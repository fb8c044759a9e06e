package io.safegrid.gateway.mqtt;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.mqtt.MqttMessage;

/**
 * Counts MQTT packets by type and direction ({@code safegrid.mqtt.messages{type, direction}}):
 * {@code in} = well-formed packets received (after {@link MalformedPacketHandler}), {@code out} =
 * packets the server writes (CONNACK, PUBACK, PUBREC, PUBCOMP, SUBACK, PINGRESP, DISCONNECT),
 * counted when handed to the encoder. Sits between the decoder/encoder and every handler that
 * writes; writes that start at the channel (the tail) pass it too.
 */
@ChannelHandler.Sharable
final class MessageMetricsHandler extends ChannelDuplexHandler {

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

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof MqttMessage) {
      metrics.sent(((MqttMessage) msg).fixedHeader().messageType());
    }
    ctx.write(msg, promise);
  }
}
