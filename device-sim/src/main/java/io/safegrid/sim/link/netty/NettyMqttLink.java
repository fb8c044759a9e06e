package io.safegrid.sim.link.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.collection.IntObjectHashMap;
import io.safegrid.sim.link.DeviceLink;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One simulated MQTT device on Netty's MQTT codec (3.1.1 or 5), sharing its event loop with
 * thousands of others ({@link NettyMqttClients}). CONNECT: client id = username = device id,
 * password = secret (contract, "Devices"), clean session / clean start, the group's keepalive.
 *
 * <p>{@link #publish} completes: QoS 0 when written to the socket; QoS 1 on PUBACK; QoS 2 on
 * PUBCOMP (PUBREL sent on PUBREC). On MQTT 5 a PUBACK/PUBREC reason code of 0x80 or above (e.g.
 * 0x99 payload format invalid) completes it with {@link DeviceLink.Refused}. A publish still
 * unanswered when the connection ends completes with an {@link IOException}. Packet ids 1..65535
 * are reused once acknowledged.
 *
 * <p>{@link #connect} completes on CONNACK 0x00; a refusing CONNACK (e.g. 0x04 / 0x86 bad user
 * name or password) completes it with {@link DeviceLink.Refused} naming the code; a far end that
 * closes without CONNACK, or no CONNACK in time, with an {@link IOException}.
 *
 * <p>Threading: every packet is written on the link's event loop. Called on that loop (the load
 * pacer is), {@link #publish} writes at once; its flush is merged with the others of the same
 * event loop task by a {@link FlushConsolidationHandler}, so a tick that publishes on many links
 * costs one {@code write} system call per link. Called on any other thread it hands the write to
 * the loop. Thread-safe.
 */
public final class NettyMqttLink implements DeviceLink {

  private final Bootstrap bootstrap;
  private final String host;
  private final int port;
  private final String deviceId;
  private final byte[] password;
  private final MqttVersion version;
  private final int keepAliveS;
  private final long connAckTimeoutMillis;
  private final String topicPrefix;
  private final String telemetryTopic;
  private final AtomicInteger inFlight = new AtomicInteger();

  private volatile Channel channel;
  private volatile boolean connected;
  private volatile CompletableFuture<Void> connecting;
  private volatile String lastDisconnectReason;

  // confined to the channel's event loop
  private final IntObjectHashMap<CompletableFuture<Void>> pending = new IntObjectHashMap<>();
  private int lastPacketId;

  NettyMqttLink(Bootstrap bootstrap, String host, int port, String deviceId, String password,
      MqttVersion version, int keepAliveS, long connAckTimeoutMillis) {
    this.bootstrap = bootstrap;
    this.host = host;
    this.port = port;
    this.deviceId = deviceId;
    this.password = password.getBytes(StandardCharsets.UTF_8);
    this.version = version;
    this.keepAliveS = keepAliveS;
    this.connAckTimeoutMillis = connAckTimeoutMillis;
    this.topicPrefix = "devices/" + deviceId + "/";
    this.telemetryTopic = topicPrefix + "telemetry";
  }

  /** The device id (= MQTT client id and username). */
  public String deviceId() {
    return deviceId;
  }

  /** MQTT 3.1.1 or 5. */
  public MqttVersion version() {
    return version;
  }

  /** The event loop this link's connection runs on, or null before {@link #connect}. */
  public EventLoop eventLoop() {
    Channel ch = channel;
    return ch == null ? null : ch.eventLoop();
  }

  /** Why the far end last ended the connection (MQTT 5 DISCONNECT reason), or null. */
  public String lastDisconnectReason() {
    return lastDisconnectReason;
  }

  @Override
  public CompletableFuture<Void> connect() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    connecting = done;
    bootstrap.clone()
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ChannelPipeline p = ch.pipeline();
            p.addLast("flush", new FlushConsolidationHandler(256, true));
            p.addLast("decoder", new MqttDecoder(NettyMqttClients.MAX_INBOUND_PACKET_BYTES));
            p.addLast("encoder", MqttEncoder.INSTANCE);
            p.addLast("idle", new IdleStateHandler(2L * keepAliveS, keepAliveS, 0, TimeUnit.SECONDS));
            p.addLast("keepalive", KeepaliveHandler.INSTANCE);
            p.addLast("session", new MqttSessionHandler(NettyMqttLink.this));
          }
        })
        .connect(host, port)
        .addListener((ChannelFutureListener) f -> {
          if (f.isSuccess()) {
            channel = f.channel();
          } else {
            done.completeExceptionally(new IOException(
                "cannot connect to " + host + ":" + port + ": " + f.cause().getMessage(), f.cause()));
          }
        });
    return done;
  }

  /** The CONNECT packet this link sends (called by the session handler when TCP is up). */
  MqttConnectMessage connectMessage() {
    MqttMessageBuilders.ConnectBuilder b = MqttMessageBuilders.connect()
        .protocolVersion(version)
        .clientId(deviceId)
        .cleanSession(true)
        .keepAlive(keepAliveS)
        .hasUser(true)
        .username(deviceId)
        .hasPassword(true)
        .password(password);
    return b.build();
  }

  long connAckTimeoutMillis() {
    return connAckTimeoutMillis;
  }

  void onConnAck(Channel ch) {
    channel = ch;
    connected = true;
    CompletableFuture<Void> c = connecting;
    if (c != null) {
      c.complete(null);
    }
  }

  void onConnectFailed(Throwable why) {
    CompletableFuture<Void> c = connecting;
    if (c != null) {
      c.completeExceptionally(why);
    }
  }

  void onDisconnectReason(String reason) {
    lastDisconnectReason = reason;
  }

  /** Connection gone: fails every unanswered publish (event loop). */
  void onClosed() {
    connected = false;
    onConnectFailed(new IOException("connection to " + host + ":" + port + " closed before CONNACK"
        + (lastDisconnectReason == null ? "" : " (" + lastDisconnectReason + ")")));
    if (pending.isEmpty()) {
      return;
    }
    List<CompletableFuture<Void>> lost = new ArrayList<>(pending.values());
    pending.clear();
    IOException e = new IOException("connection lost before the acknowledgement"
        + (lastDisconnectReason == null ? "" : " (" + lastDisconnectReason + ")"));
    for (CompletableFuture<Void> f : lost) {
      finish(f, e);
    }
  }

  @Override
  public CompletableFuture<Void> publish(String channelName, byte[] payload, int qos) {
    if (qos < 0 || qos > 2) {
      throw new IllegalArgumentException("QoS must be 0, 1 or 2, was " + qos);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    Channel ch = channel;
    if (ch == null || !connected) {
      done.completeExceptionally(new IOException(deviceId + " is not connected"));
      return done;
    }
    inFlight.incrementAndGet();
    String topic = "telemetry".equals(channelName) ? telemetryTopic : topicPrefix + channelName;
    EventLoop loop = ch.eventLoop();
    if (loop.inEventLoop()) {
      write(ch, topic, payload, qos, done);
    } else {
      loop.execute(() -> write(ch, topic, payload, qos, done));
    }
    return done;
  }

  private void write(Channel ch, String topic, byte[] payload, int qos, CompletableFuture<Void> done) {
    if (!ch.isActive()) {
      finish(done, new IOException(deviceId + ": connection lost"));
      return;
    }
    int packetId = 0;
    if (qos > 0) {
      packetId = nextPacketId();
      if (packetId < 0) {
        finish(done, new IOException(deviceId + ": 65535 messages in flight, no packet id free"));
        return;
      }
      pending.put(packetId, done);
    }
    MqttMessage publish = MqttMessageBuilders.publish()
        .topicName(topic)
        .qos(MqttQoS.valueOf(qos))
        .retained(false)
        .messageId(packetId)
        .payload(Unpooled.wrappedBuffer(payload))
        .build();
    if (qos > 0) {
      // no promise per message: a failed write closes the connection, which fails every pending one
      ch.writeAndFlush(publish, ch.voidPromise());
      return;
    }
    ch.writeAndFlush(publish).addListener((ChannelFutureListener) f -> finish(done, f.isSuccess() ? null
        : new IOException(deviceId + ": write failed: " + f.cause().getMessage(), f.cause())));
  }

  private int nextPacketId() {
    if (pending.size() >= 65_535) {
      return -1;
    }
    do {
      lastPacketId = lastPacketId == 65_535 ? 1 : lastPacketId + 1;
    } while (pending.containsKey(lastPacketId));
    return lastPacketId;
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2) for {@code packetId}; reasonCode 0 unless MQTT 5 said otherwise. */
  void onAck(int packetId, int reasonCode, String packet) {
    CompletableFuture<Void> f = pending.remove(packetId);
    if (f == null) {
      return; // not ours (or already failed): nothing to complete
    }
    finish(f, reasonCode >= 0x80
        ? new Refused(packet + " reason code 0x" + Integer.toHexString(reasonCode)) : null);
  }

  /** PUBREC for a QoS 2 publish: refuse it, or answer PUBREL and wait for PUBCOMP. */
  void onPubRec(Channel ch, int packetId, int reasonCode) {
    if (reasonCode >= 0x80) {
      onAck(packetId, reasonCode, "PUBREC");
      return;
    }
    MqttFixedHeader header = new MqttFixedHeader(MqttMessageType.PUBREL, false, MqttQoS.AT_LEAST_ONCE, false, 0);
    Object variable = version == MqttVersion.MQTT_5
        ? new MqttPubReplyMessageVariableHeader(packetId, (byte) 0, MqttProperties.NO_PROPERTIES)
        : MqttMessageIdVariableHeader.from(packetId);
    ch.writeAndFlush(new MqttMessage(header, variable));
  }

  private void finish(CompletableFuture<Void> f, Throwable error) {
    inFlight.decrementAndGet();
    if (error == null) {
      f.complete(null);
    } else {
      f.completeExceptionally(error);
    }
  }

  @Override
  public void drop() {
    Channel ch = channel;
    if (ch != null) {
      ch.close(); // no DISCONNECT: the far end sees the link fail (and publishes the LWT, if any)
    }
  }

  @Override
  public boolean isConnected() {
    Channel ch = channel;
    return connected && ch != null && ch.isActive();
  }

  @Override
  public int inFlight() {
    return inFlight.get();
  }

  /** Sends DISCONNECT and closes the connection (waits at most 1 s unless on the event loop). */
  @Override
  public void close() {
    Channel ch = channel;
    if (ch == null) {
      return;
    }
    if (ch.isActive() && connected) {
      MqttMessage disconnect = version == MqttVersion.MQTT_5
          ? MqttMessageBuilders.disconnect().reasonCode((byte) 0).build() : MqttMessage.DISCONNECT;
      ch.writeAndFlush(disconnect).addListener(ChannelFutureListener.CLOSE);
    } else {
      ch.close();
    }
    if (!ch.eventLoop().inEventLoop()) {
      ch.closeFuture().awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
  }
}
