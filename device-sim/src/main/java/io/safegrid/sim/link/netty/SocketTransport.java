package io.safegrid.sim.link.netty;

import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket transport of the simulator's Netty event loops (the MQTT devices of {@code load} and
 * {@code hold}, and the alarm probe's {@code /api/live} stream), chosen as the gateway chooses its
 * MQTT server's (gateway {@code MqttTransport}, docs/mqtt.md "Socket transport"; the simulator
 * depends on no SafeGrid module, so the choice is made here again): Netty's io_uring transport when
 * the kernel allows it ({@code netty-transport-native-io_uring}, Linux 5.14+, not blocked by
 * {@code kernel.io_uring_disabled} or a seccomp profile), else Netty's native epoll, else (other
 * systems, no native library) the JDK's NIO.
 *
 * <p>Why: the simulator shares the machine's cores with the gateway it measures, so its CPU is
 * the gateway's tail. At 5,000 PUBLISH/s over 1,000 connections each message costs a client loop a
 * write, a PUBACK read and a share of a wait for readiness; through NIO each also pays the JDK
 * selector's key set and locks; io_uring submits a loop turn's writes and reads in one {@code
 * io_uring_enter} (docs/simulator.md "Socket transport" gives the measured CPU).
 *
 * <p>{@code --io-transport auto|io_uring|epoll|nio} ({@code load}, {@code hold}; default the
 * system property {@link #PROPERTY}, else {@code auto}) forces one; a native transport asked for
 * but not available falls back as above.
 */
public enum SocketTransport {
  /** Netty's io_uring transport (Linux 5.14+). */
  IO_URING,
  /** Netty's native epoll transport (Linux). */
  EPOLL,
  /** The JDK's NIO selector. */
  NIO;

  /** System property giving {@code --io-transport}'s default: {@code auto}, {@code io_uring}, {@code epoll} or {@code nio}. */
  public static final String PROPERTY = "safegrid.sim.transport";

  private static final Logger log = LoggerFactory.getLogger(SocketTransport.class);

  /**
   * The transport to use: NIO if {@code asked} says {@code nio}; else io_uring if available and not
   * asked for epoll, else epoll if available, else NIO.
   *
   * @param asked {@code auto}, {@code io_uring}, {@code epoll} or {@code nio} (any case), or null /
   *     blank for {@code auto}
   * @throws IllegalArgumentException if {@code asked} names no transport
   */
  public static SocketTransport choose(String asked) {
    SocketTransport wanted = IO_URING;
    if (asked != null && !asked.isBlank() && !asked.trim().equalsIgnoreCase("auto")) {
      try {
        wanted = valueOf(asked.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--io-transport must be auto, io_uring, epoll or nio, was " + asked, e);
      }
    }
    if (wanted == IO_URING && IoUring.isAvailable()) {
      return IO_URING;
    }
    if (wanted != NIO && Epoll.isAvailable()) {
      return EPOLL;
    }
    return NIO;
  }

  /** The default: {@link #choose} with the system property {@link #PROPERTY} (unset: auto). */
  public static SocketTransport fromProperty() {
    return choose(System.getProperty(PROPERTY));
  }

  /**
   * An event loop group of {@code threads} daemon threads named {@code name-*} on this transport.
   * Netty decides io_uring is available with a one-entry test ring; if the loops' own rings then
   * cannot be set up (e.g. a container's memory limit), the group is made on epoll (else NIO)
   * with a WARN, as the gateway does. {@link #of} tells which transport a loop of it runs on.
   */
  public MultiThreadIoEventLoopGroup newGroup(int threads, String name) {
    try {
      return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), ioHandlerFactory());
    } catch (RuntimeException e) {
      if (this == NIO) {
        throw e;
      }
      SocketTransport next = this == IO_URING && Epoll.isAvailable() ? EPOLL : NIO;
      log.warn("{}: the {} event loops could not start ({}); using {}", name, label(), e.toString(), next.label());
      return next.newGroup(threads, name);
    }
  }

  /**
   * The transport a Netty event loop runs on ({@link #NIO} for one that is no {@link IoEventLoop}
   * of the three), so that a channel opened on it has the matching class.
   */
  public static SocketTransport of(EventLoop loop) {
    if (loop instanceof IoEventLoop io) {
      if (io.isIoType(IoUringIoHandler.class)) {
        return IO_URING;
      }
      if (io.isIoType(EpollIoHandler.class)) {
        return EPOLL;
      }
    }
    return NIO;
  }

  /** The I/O handler of this transport's event loops. */
  public IoHandlerFactory ioHandlerFactory() {
    return switch (this) {
      case IO_URING -> IoUringIoHandler.newFactory();
      case EPOLL -> EpollIoHandler.newFactory();
      case NIO -> NioIoHandler.newFactory();
    };
  }

  /** The client socket's channel class. */
  public Class<? extends SocketChannel> socketChannel() {
    return switch (this) {
      case IO_URING -> IoUringSocketChannel.class;
      case EPOLL -> EpollSocketChannel.class;
      case NIO -> NioSocketChannel.class;
    };
  }

  /** The name printed and put in the summary: io_uring, epoll or nio. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
