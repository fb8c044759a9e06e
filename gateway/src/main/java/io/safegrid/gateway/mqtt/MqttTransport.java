package io.safegrid.gateway.mqtt;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

/**
 * The socket transport the MQTT server's event loops run on: Netty's native epoll transport on
 * Linux when its library loads ({@code netty-transport-native-epoll}, classifier {@code
 * linux-x86_64}), else the JDK's NIO.
 *
 * <p>Why native: at 5,000 PUBLISH/s from 1,000 connections every message costs the event loop a
 * read, a PUBACK write and a share of an {@code epoll_wait}; through NIO each of those also pays
 * the JDK selector's key set and locks and the {@code SocketChannelImpl} bookkeeping
 *. The native transport makes the same
 * system calls directly on the file descriptor.
 */
enum MqttTransport {
  /** Netty's native epoll transport (Linux). */
  EPOLL,
  /** The JDK's NIO selector. */
  NIO;

  /**
   * The transport to use: {@link #EPOLL} if {@code nativeWanted} and the native library loaded,
   * else {@link #NIO}.
   */
  static MqttTransport choose(boolean nativeWanted) {
    return nativeWanted && Epoll.isAvailable() ? EPOLL : NIO;
  }

  /** Why {@link #EPOLL} is not available, or null if it is. */
  static Throwable epollUnavailabilityCause() {
    return Epoll.unavailabilityCause();
  }

  /** The I/O handler of this transport's event loops. */
  IoHandlerFactory ioHandlerFactory() {
    return this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
  }

  /** The listening socket's channel class. */
  Class<? extends ServerChannel> serverChannel() {
    return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }
}
