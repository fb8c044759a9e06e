package io.safegrid.gateway.mqtt;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (Session.of(ctx.channel()).closing()) {
      ReferenceCountUtil.release(msg);
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
    if (draining || !paused.isEmpty()) {
      return;
    }
    draining = true;
    try {
      Session session = Session.of(ctx.channel());
      while (paused.isEmpty() && !queue.isEmpty() && !session.closing()) {
        ctx.fireChannelRead(queue.poll());
      }
      if (paused.isEmpty() && queue.isEmpty() && ctx.channel().isActive()) {
        ctx.channel().config().setAutoRead(true);
      }
    } finally {
      draining = false;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    Object msg;
    while ((msg = queue.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
    super.channelInactive(ctx);
  }
}
