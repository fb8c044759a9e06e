package io.safegrid.gateway.mqtt;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts open connections ({@code safegrid.mqtt.connections}) and closes a new one at once when
 * {@link MqttLimits#maxConnections()} are already open (reject reason {@code max_connections}).
 */
@ChannelHandler.Sharable
final class ConnectionLimitHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(ConnectionLimitHandler.class);

  private final MqttMetrics metrics;
  private final int max;

  ConnectionLimitHandler(MqttMetrics metrics, int max) {
    this.metrics = metrics;
    this.max = max;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (metrics.connections.incrementAndGet() > max) {
      metrics.reject("max_connections");
      log.warn("refusing connection from {}: {} connections open", ctx.channel().remoteAddress(), max);
      ctx.close();
      return;
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    metrics.connections.decrementAndGet();
    super.channelInactive(ctx);
  }
}
