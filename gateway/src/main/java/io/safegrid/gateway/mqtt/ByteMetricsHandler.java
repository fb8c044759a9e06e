package io.safegrid.gateway.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/** Counts bytes in and out ({@code safegrid.mqtt.bytes}), below the MQTT codec. */
@ChannelHandler.Sharable
final class ByteMetricsHandler extends ChannelDuplexHandler {

  private final MqttMetrics metrics;

  ByteMetricsHandler(MqttMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof ByteBuf) {
      metrics.bytesIn.increment(((ByteBuf) msg).readableBytes());
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (msg instanceof ByteBuf) {
      metrics.bytesOut.increment(((ByteBuf) msg).readableBytes());
    }
    ctx.write(msg, promise);
  }
}
