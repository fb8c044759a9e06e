package io.safegrid.gateway.mqtt;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import java.util.Locale;

/**
 * The socket transport the MQTT server's event loops run on. On Linux, Netty's io_uring transport
 * when the kernel allows it ({@code netty-transport-native-io_uring}, Linux 5.14+, not blocked by
 * {@code kernel.io_uring_disabled} or a seccomp profile), else Netty's native epoll, else (other
 * systems, or no native library) the JDK's NIO.
 *
 * <p>Why native: at 5,000 PUBLISH/s from 1,000 connections every message costs the event loop a
 * read, a PUBACK write and a share of a wait for readiness. Through NIO each of those also pays
 * the JDK selector's key set and locks; native epoll makes the same system calls directly on the
 * descriptor; io_uring submits a loop turn's reads and PUBACK writes in one {@code
 * io_uring_enter} instead of one system call each. Measured (bench/alarm_path.sh 1000 5000 40,
 * CPU of the two MQTT loops together, % of one core): NIO 27-34, epoll 24-31, io_uring 21-24.
 *
 * <p>The system property {@code safegrid.mqtt.transport} ({@code io_uring}, {@code epoll} or
 * {@code nio}) forces one, e.g. to compare them or to step back from io_uring on a kernel that
 * misbehaves; a forced native transport that is not available falls back as above. {@link
 * MqttServer.Builder#transport} forces one for a single server (it wins over the property).
 */
enum MqttTransport {
  /** Netty's io_uring transport (Linux 5.14+). */
  IO_URING,
  /** Netty's native epoll transport (Linux). */
  EPOLL,
  /** The JDK's NIO selector. */
  NIO;

  /** The system property that forces a transport: {@code io_uring}, {@code epoll} or {@code nio}. */
  static final String PROPERTY = "safegrid.mqtt.transport";

  /**
   * The transport to use, as the system property {@link #PROPERTY} asks: {@link #choose(boolean,
   * String, String)} with the property's value.
   *
   * @throws IllegalArgumentException if the property names no transport
   */
  static MqttTransport choose(boolean nativeWanted) {
    return choose(nativeWanted, System.getProperty(PROPERTY), PROPERTY);
  }

  /**
   * The transport to use: NIO if {@code nativeWanted} is false or {@code forced} says {@code nio};
   * else io_uring if available and not forced to epoll, else epoll if available, else NIO.
   *
   * @param forced {@code io_uring}, {@code epoll} or {@code nio} (any case), or null / blank for
   *     the default order
   * @param source where {@code forced} came from, for the error message (the property's name, or
   *     the server builder's {@code transport})
   * @throws IllegalArgumentException if {@code forced} names no transport
   */
  static MqttTransport choose(boolean nativeWanted, String forced, String source) {
    if (!nativeWanted) {
      return NIO;
    }
    MqttTransport wanted = IO_URING;
    if (forced != null && !forced.isBlank()) {
      try {
        wanted = valueOf(forced.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(source + " must be io_uring, epoll or nio: " + forced, e);
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

  /** Why io_uring and epoll are not available ("io_uring: ...; epoll: ..."), for a log line. */
  static String unavailabilityCauses() {
    return "io_uring: " + IoUring.unavailabilityCause() + "; epoll: " + Epoll.unavailabilityCause();
  }

  /** The I/O handler of this transport's event loops. */
  IoHandlerFactory ioHandlerFactory() {
    return switch (this) {
      case IO_URING -> IoUringIoHandler.newFactory();
      case EPOLL -> EpollIoHandler.newFactory();
      case NIO -> NioIoHandler.newFactory();
    };
  }

  /** The listening socket's channel class. */
  Class<? extends ServerChannel> serverChannel() {
    return switch (this) {
      case IO_URING -> IoUringServerSocketChannel.class;
      case EPOLL -> EpollServerSocketChannel.class;
      case NIO -> NioServerSocketChannel.class;
    };
  }

  /** The name logged and returned by {@link MqttServer#transport()}: io_uring, epoll or nio. */
  String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
