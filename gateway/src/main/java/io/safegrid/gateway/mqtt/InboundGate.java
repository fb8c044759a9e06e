package io.safegrid.gateway.mqtt;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.EnumSet;

/**
 * Back-pressure for one connection: while any reason to pause holds (authentication running,
 * inflight full, storage not accepting, rate limit), the socket is not read (Netty autoRead off)
 * and the packets the decoder already produced from the last read wait here, in order. When the
 * last reason clears they are passed on and reading resumes.
 *
 * <p>The queue is bounded by one socket read: with autoRead off no further bytes are read. Used on
 * the connection's event loop only.
 *
 * <p>When the client ends the connection (DISCONNECT then close, or just EOF / reset) while
 * packets wait here, the PUBLISH packets among them were received and are not dropped: after
 * {@code channelInactive} has gone on (presence as before) they are passed on in order, at once,
 * before the channel is unregistered (which takes the pipeline down). No pause applies any more:
 * no socket to stop reading, no ack to send; the rate limit's token bucket (shared by the device's
 * connections) goes into debt, so the device's next connection is slowed instead; a store
 * push-back is offered again by {@link PublishHandler}. Other packets (PINGREQ, SUBSCRIBE, PUBREL, DISCONNECT) have
 * nobody left to answer and are released. Packets behind one on which the server itself decided
 * to end the connection are dropped, as before; so is everything of a connection that was never
 * authenticated (no device to store for).
 */
final class InboundGate extends ChannelInboundHandlerAdapter {

  /** Why reading is paused. */
  enum Pause {
    AUTH,
    INFLIGHT,
    STORAGE,
    RATE
  }

  private final EnumSet<Pause> paused = EnumSet.noneOf(Pause.class);
  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private boolean draining;
  /** Set at channelInactive: what is still queued was received before the close. */
  private boolean inactive;

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Session session = Session.of(ctx.channel());
    if (session.closing) {
      // the server decided to end the connection: what follows is not processed
      ReferenceCountUtil.release(msg);
      return;
    }
    if (inactive || !ctx.channel().isActive()) {
      // received as the client closed (e.g. decoded from the last bytes at EOF): kept in order,
      // handed on by channelInactive
      queue.add(msg);
      if (inactive) {
        drainReceived();
      }
      return;
    }
    if (!paused.isEmpty() || !queue.isEmpty()) {
      queue.add(msg);
      return;
    }
    ctx.fireChannelRead(msg);
  }

  /** Stops reading for {@code reason}; idempotent. */
  void pause(Pause reason) {
    if (inactive) {
      return; // after the close nothing is paused: see channelInactive
    }
    paused.add(reason);
    ctx.channel().config().setAutoRead(false);
  }

  /** Clears {@code reason}; when none is left, passes queued packets on and reads again. */
  void resume(Pause reason) {
    if (!paused.remove(reason) && queue.isEmpty()) {
      return;
    }
    drain();
  }

  boolean isPaused(Pause reason) {
    return paused.contains(reason);
  }

  /** True while reading is paused for any reason (keepalive must not count that as silence). */
  boolean isPaused() {
    return !paused.isEmpty();
  }

  private void drain() {
    if (inactive) {
      drainReceived();
      return;
    }
    if (draining || !paused.isEmpty()) {
      return;
    }
    draining = true;
    try {
      Session session = Session.of(ctx.channel());
      boolean closingBefore = session.closing;
      while (paused.isEmpty() && !queue.isEmpty() && !session.closing()) {
        ctx.fireChannelRead(queue.poll());
      }
      if (session.closing && !closingBefore) {
        releaseAll(); // behind the packet on which the server ended the connection: dropped
      }
      if (paused.isEmpty() && queue.isEmpty() && ctx.channel().isActive()) {
        ctx.channel().config().setAutoRead(true);
      }
    } finally {
      draining = false;
    }
  }

  /**
   * After the close: passes the queued PUBLISH packets on in order, at once; stops, dropping the
   * rest, if one of them makes the server end the connection (e.g. an ACL refusal on MQTT 3.1.1).
   */
  private void drainReceived() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      Session session = Session.of(ctx.channel());
      while (!queue.isEmpty()) {
        Object msg = queue.poll();
        if (!isPublish(msg)) {
          ReferenceCountUtil.release(msg);
          continue;
        }
        boolean closingBefore = session.closing;
        ctx.fireChannelRead(msg);
        if (session.closing && !closingBefore) {
          releaseAll();
        }
      }
    } finally {
      draining = false;
    }
  }

  private static boolean isPublish(Object msg) {
    return msg instanceof MqttMessage && ((MqttMessage) msg).fixedHeader() != null
        && ((MqttMessage) msg).fixedHeader().messageType() == MqttMessageType.PUBLISH;
  }

  private void releaseAll() {
    Object msg;
    while ((msg = queue.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    inactive = true;
    super.channelInactive(ctx);
    if (!Session.of(ctx.channel()).connected) {
      releaseAll();
      return;
    }
    // handed on now, all of them: once the channel is unregistered its pipeline is taken down,
    // so nothing can wait for a later turn of the loop
    paused.clear();
    drainReceived();
  }
}
