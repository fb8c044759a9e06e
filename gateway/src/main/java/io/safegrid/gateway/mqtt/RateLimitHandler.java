package io.safegrid.gateway.mqtt;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageType;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Per-device PUBLISH rate ({@link MqttLimits#messagesPerSecondPerDevice()}): a token bucket per
 * device id, shared by the device's connections (reconnecting does not refill it), holding one
 * second's worth. A device over its rate is slowed, not cut off: its socket is not read until the
 * bucket has refilled (counted as {@code safegrid.mqtt.throttled{reason=rate}}); nothing is lost.
 */
final class RateLimitHandler extends ChannelInboundHandlerAdapter {

  private final Map<String, TokenBucket> buckets;
  private final int perSecond;
  private final MqttMetrics metrics;
  /** This connection's device's bucket, looked up at its first PUBLISH. */
  private TokenBucket bucket;
  private InboundGate gate;

  RateLimitHandler(Map<String, TokenBucket> buckets, int perSecond, MqttMetrics metrics) {
    this.buckets = buckets;
    this.perSecond = perSecond;
    this.metrics = metrics;
  }

  /** A token bucket of {@code perSecond} tokens refilled continuously; may go into debt. */
  static final class TokenBucket {
    private final double perNano;
    private final double capacity;
    private double tokens;
    private long last;

    TokenBucket(int perSecond) {
      this.perNano = perSecond / 1e9;
      this.capacity = perSecond;
      this.tokens = perSecond;
      this.last = System.nanoTime();
    }

    /** Takes one token; returns nanos to wait until the balance is back to zero (0 if none). */
    synchronized long take() {
      long now = System.nanoTime();
      tokens = Math.min(capacity, tokens + (now - last) * perNano);
      last = now;
      tokens -= 1;
      return tokens >= 0 ? 0 : (long) Math.ceil(-tokens / perNano);
    }
  }

  static Map<String, TokenBucket> newBuckets() {
    return new ConcurrentHashMap<>();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    MqttMessage m = (MqttMessage) msg;
    if (m.fixedHeader().messageType() == MqttMessageType.PUBLISH) {
      if (bucket == null) {
        bucket = buckets.computeIfAbsent(Session.of(ctx.channel()).deviceId, id -> new TokenBucket(perSecond));
        gate = ctx.pipeline().get(InboundGate.class);
      }
      long waitNanos = bucket.take();
      if (waitNanos > 0) {
        if (!gate.isPaused(InboundGate.Pause.RATE)) {
          metrics.throttled("rate");
          gate.pause(InboundGate.Pause.RATE);
          ctx.executor().schedule(() -> gate.resume(InboundGate.Pause.RATE), waitNanos, TimeUnit.NANOSECONDS);
        }
      }
    }
    ctx.fireChannelRead(msg);
  }
}
