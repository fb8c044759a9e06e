package io.safegrid.gateway.mqtt;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttReasonCodes;
import io.netty.util.AttributeKey;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * State of one MQTT connection (not persisted: every session is a clean session, see {@link
 * MqttServer}). Touched only on the connection's event loop, except {@link #ended}.
 */
final class Session {

  static final AttributeKey<Session> KEY = AttributeKey.valueOf("safegrid.mqtt.session");

  final Channel channel;
  /** MQTT protocol level from CONNECT: 4 = 3.1.1, 5 = 5.0; 0 before CONNECT. */
  int protocolLevel;
  boolean connectSeen;
  boolean connected;
  String deviceId;
  String clientId;
  /** True when the server assigned the client id (MQTT 5 CONNACK Assigned Client Identifier). */
  boolean assignedClientId;
  int keepaliveSeconds;
  String willTopic;
  byte[] willPayload;
  /** Set when the client ended with a clean DISCONNECT (reason 0x00). */
  boolean cleanDisconnect;
  /** Why the server closed the connection, if it did. */
  PresenceEvent.Reason closeReason;
  final Set<String> subscriptions = new HashSet<>();
  /**
   * Set once the server decided to end the connection: packets already decoded behind the one
   * that ended it are dropped, not processed (a close takes effect after the current read).
   */
  boolean closing;
  /** Guards the exactly-once offline event. */
  final AtomicBoolean ended = new AtomicBoolean();

  Session(Channel channel) {
    this.channel = channel;
  }

  /** Closes at once, without DISCONNECT; later packets are dropped. */
  void close() {
    closing = true;
    channel.close();
  }

  /** True once the connection is ending: drop whatever still arrives. */
  boolean closing() {
    return closing || !channel.isActive();
  }

  static Session of(Channel channel) {
    return channel.attr(KEY).get();
  }

  boolean v5() {
    return protocolLevel == 5;
  }

  /**
   * Ends the connection from the server side: on MQTT 5 after CONNACK, sends DISCONNECT with
   * {@code code} first (MQTT 5.0 3.14); on 3.1.1 just closes (3.1.1 has no server DISCONNECT).
   */
  void disconnect(PresenceEvent.Reason reason, MqttReasonCodes.Disconnect code) {
    closing = true;
    if (closeReason == null) {
      closeReason = reason;
    }
    if (!channel.isActive()) {
      channel.close();
      return;
    }
    if (v5() && connected && code != null) {
      channel
          .writeAndFlush(MqttMessageBuilders.disconnect().reasonCode(code.byteValue()).build())
          .addListener(ChannelFutureListener.CLOSE);
    } else {
      channel.close();
    }
  }
}
