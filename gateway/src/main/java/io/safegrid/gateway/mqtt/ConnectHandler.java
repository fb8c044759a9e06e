package io.safegrid.gateway.mqtt;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectPayload;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttConnectVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttReasonCodes;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.safegrid.gateway.mqtt.auth.AuthOutcome;
import io.safegrid.gateway.mqtt.auth.DeviceAuthenticator;
import io.safegrid.gateway.mqtt.auth.RefusalGuard;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CONNECT, authentication and DISCONNECT.
 *
 * <ul>
 *   <li>The first packet must be CONNECT, and only one CONNECT per connection (MQTT 3.1.1
 *       3.1.0-1, 3.1.0-2); otherwise the connection is closed.
 *   <li>Username = device id, password = secret, checked by the {@link DeviceAuthenticator}: on
 *       the event loop when its check is quick (one HMAC, {@link DeviceAuthenticator#quick()}),
 *       else on the authentication pool; reading pauses meanwhile. A right secret is answered at
 *       once. Refused: CONNACK 0x04 / 0x05 (3.1.1) or 0x86 / 0x87 (5), rejects {@code
 *       bad_credentials} / {@code not_authorized}; a wrong secret (or unknown device, or none)
 *       is answered only after the {@link RefusalGuard}'s delay (1 s) on a timer, holding one of
 *       its refusal slots. With the source's (or all) slots taken, a wrong secret is answered at
 *       once with CONNACK 3 server unavailable (3.1.1) / 0x89 server busy (5), reject {@code
 *       server_busy}, and a CONNECT whose (device id, source prefix) is over its refusal budget
 *       without being checked, reject {@code refusal_budget} (see {@link RefusalGuard}: the budget
 *       is per source prefix, and the source a device last connected from has its own, so
 *       guessers elsewhere cannot get a device's right secret refused).
 *   <li>The client id is 1-128 printable ASCII characters without spaces ({@link #CLIENT_ID}):
 *       what real devices use (the contract's device ids, Paho's {@code paho...}, mosquitto's
 *       {@code mosq-...}, Tasmota's {@code DVES_...}, MAC addresses with colons) passes; MQTT
 *       3.1.1 [MQTT-3.1.3-5] obliges a server to accept 1-23 characters of {@code 0-9a-zA-Z} and
 *       allows it to refuse more. Anything else (129+ characters, spaces, control or non-ASCII
 *       characters) is refused before authentication: CONNACK 0x02 identifier rejected (3.1.1
 *       3.2.2.3) / 0x85 client identifier not valid (5.0 3.2.2.2), reject {@code
 *       client_id_rejected}. An empty one gets a server-assigned id on MQTT 5 and with clean
 *       session on 3.1.1. The client id need not equal the device id: the device is the
 *       username, and sessions are per device ({@link SessionRegistry}).
 *   <li>Every session is clean: CONNACK session present = 0; nothing is kept across connections.
 *   <li>A will must target one of the device's own publish topics, else CONNACK not authorized.
 *       MQTT 5 Will Retain = 1: CONNACK 0x9A retain not supported (MQTT 5.0 3.1.2.7: the CONNACK
 *       says Retain Available = 0); on 3.1.1 the will's retain flag is ignored.
 *   <li>After CONNACK the connect timeout is replaced by the keepalive: 1.5 x keepalive of
 *       silence closes (MQTT 3.1.1 3.1.2.10); keepalive 0 means none.
 *   <li>DISCONNECT (reason 0x00): clean end, no offline event, the will is dropped. MQTT 5
 *       DISCONNECT 0x04 (with will message): the will is published.
 * </ul>
 */
final class ConnectHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(ConnectHandler.class);

  /**
   * The client ids accepted: 1-128 printable ASCII characters (0x21-0x7E), no spaces. MQTT 3.1.1
   * [MQTT-3.1.3-5] requires 1-23 characters of {@code 0-9a-zA-Z} to be accepted; the bound of 128
   * keeps a log line and a session key small while leaving room for vendors' ids (underscores,
   * colons, dots).
   */
  static final Pattern CLIENT_ID = Pattern.compile("[\\x21-\\x7E]{1,128}");

  private final DeviceAuthenticator authenticator;
  private final Executor authExecutor;
  private final RefusalGuard refusals;
  private final SessionRegistry registry;
  private final MqttMetrics metrics;
  private final MqttLimits limits;

  ConnectHandler(
      DeviceAuthenticator authenticator,
      Executor authExecutor,
      RefusalGuard refusals,
      SessionRegistry registry,
      MqttMetrics metrics,
      MqttLimits limits) {
    this.authenticator = authenticator;
    this.authExecutor = authExecutor;
    this.refusals = refusals;
    this.registry = registry;
    this.metrics = metrics;
    this.limits = limits;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    MqttMessage m = (MqttMessage) msg;
    Session session = Session.of(ctx.channel());
    MqttMessageType type = m.fixedHeader().messageType();
    if (type == MqttMessageType.CONNECT) {
      if (session.connectSeen) {
        ReferenceCountUtil.release(msg);
        metrics.reject("protocol_error");
        log.info("{}: second CONNECT, closing", MalformedPacketHandler.who(ctx, session));
        session.disconnect(PresenceEvent.Reason.PROTOCOL_ERROR, MqttReasonCodes.Disconnect.PROTOCOL_ERROR);
        return;
      }
      session.connectSeen = true;
      connect(ctx, session, (MqttConnectMessage) m);
      return;
    }
    if (!session.connected) {
      ReferenceCountUtil.release(msg);
      metrics.reject("protocol_error");
      log.info("{}: {} before CONNECT, closing", ctx.channel().remoteAddress(), type);
      session.close();
      return;
    }
    if (type == MqttMessageType.DISCONNECT) {
      byte reason = 0;
      if (m.variableHeader() instanceof MqttReasonCodeAndPropertiesVariableHeader) {
        reason = ((MqttReasonCodeAndPropertiesVariableHeader) m.variableHeader()).reasonCode();
      }
      session.cleanDisconnect = reason != MqttReasonCodes.Disconnect.DISCONNECT_WITH_WILL_MESSAGE.byteValue();
      session.closeReason = PresenceEvent.Reason.CONNECTION_LOST;
      session.close();
      return;
    }
    ctx.fireChannelRead(msg);
  }

  private void connect(ChannelHandlerContext ctx, Session session, MqttConnectMessage connect) {
    MqttConnectVariableHeader header = connect.variableHeader();
    MqttConnectPayload payload = connect.payload();
    session.protocolLevel = header.version();
    session.keepaliveSeconds = header.keepAliveTimeSeconds();
    String clientId = payload.clientIdentifier() == null ? "" : payload.clientIdentifier();
    if (clientId.isEmpty()) {
      if (!session.v5() && !header.isCleanSession()) {
        refuse(ctx, session, MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED,
            MqttConnectReturnCode.CONNECTION_REFUSED_CLIENT_IDENTIFIER_NOT_VALID, "client_id_rejected");
        return;
      }
      clientId = "safegrid-" + UUID.randomUUID();
      session.assignedClientId = session.v5();
    } else if (!CLIENT_ID.matcher(clientId).matches()) {
      log.info("{}: CONNECT refused, client id not 1-128 printable ASCII characters ({} characters: {})",
          ctx.channel().remoteAddress(), clientId.length(), printable(clientId));
      refuse(ctx, session, MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED,
          MqttConnectReturnCode.CONNECTION_REFUSED_CLIENT_IDENTIFIER_NOT_VALID, "client_id_rejected");
      return;
    }
    session.clientId = clientId;
    if (session.v5() && header.isWillFlag() && header.isWillRetain()) {
      // MQTT 5.0 3.1.2.7: a server without retained messages refuses Will Retain = 1 with 0x9A
      refuse(ctx, session, null, MqttConnectReturnCode.CONNECTION_REFUSED_RETAIN_NOT_SUPPORTED,
          "retain_not_supported");
      return;
    }
    if (session.v5() && header.properties().getProperty(MqttProperties.MqttPropertyType.AUTHENTICATION_METHOD.value()) != null) {
      refuse(ctx, session, null, MqttConnectReturnCode.CONNECTION_REFUSED_BAD_AUTHENTICATION_METHOD, "bad_auth_method");
      return;
    }
    String deviceId = header.hasUserName() ? payload.userName() : null;
    byte[] secret = header.hasPassword() ? payload.passwordInBytes() : null;
    if (header.isWillFlag()) {
      session.willTopic = payload.willTopic();
      session.willPayload = payload.willMessageInBytes();
    }
    if (refusals.refuseUnchecked(source(ctx), deviceId)) {
      // over its refusal budget while the slots are taken: no check, so no answer to learn from
      refuse(ctx, session, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE,
          MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_BUSY, "refusal_budget");
      return;
    }
    InboundGate gate = ctx.pipeline().get(InboundGate.class);
    gate.pause(InboundGate.Pause.AUTH);
    if (authenticator.quick()) {
      AuthOutcome outcome;
      try {
        outcome = authenticator.check(deviceId, secret);
      } catch (RuntimeException e) {
        authenticated(ctx, session, deviceId, null, e);
        return;
      }
      authenticated(ctx, session, deviceId, outcome, null);
      return;
    }
    try {
      CompletableFuture.supplyAsync(() -> authenticator.authenticate(deviceId, secret), authExecutor)
          .whenComplete(
              (outcome, error) ->
                  ctx.executor().execute(() -> authenticated(ctx, session, deviceId, outcome, error)));
    } catch (RejectedExecutionException e) {
      refuse(ctx, session, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE,
          MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_BUSY, "server_busy");
    }
  }

  private void authenticated(
      ChannelHandlerContext ctx, Session session, String deviceId, AuthOutcome outcome, Throwable error) {
    if (!ctx.channel().isActive()) {
      return;
    }
    if (error != null) {
      log.error("authenticator failed for {}", deviceId, error);
      refuse(ctx, session, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE,
          MqttConnectReturnCode.CONNECTION_REFUSED_UNSPECIFIED_ERROR, "auth_error");
      return;
    }
    if (outcome == AuthOutcome.BAD_CREDENTIALS) {
      refusedCredentials(ctx, session, deviceId);
      return;
    }
    if (outcome != AuthOutcome.OK) {
      log.info("{}: device {} not authorized", ctx.channel().remoteAddress(), deviceId);
      refuse(ctx, session, MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED,
          MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5, "not_authorized");
      return;
    }
    if (session.willTopic != null && TopicAcl.publishKind(deviceId, session.willTopic) == null) {
      log.info("device {}: will topic {} not allowed", deviceId, session.willTopic);
      refuse(ctx, session, MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED,
          MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5, "acl_will");
      return;
    }
    refusals.accepted(source(ctx), deviceId); // its last known good source (RefusalGuard)
    session.deviceId = deviceId;
    session.connected = true;
    if (session.keepaliveSeconds > 0) {
      long idleMillis = session.keepaliveSeconds * 1500L;
      ctx.pipeline().replace(MqttServer.IDLE, MqttServer.IDLE,
          new IdleStateHandler(idleMillis, 0, 0, TimeUnit.MILLISECONDS));
    } else {
      ctx.pipeline().remove(MqttServer.IDLE);
    }
    registry.register(session);
    ctx.writeAndFlush(connAck(session));
    log.debug("device {} connected (client id {}, MQTT level {}, keepalive {} s)",
        deviceId, session.clientId, session.protocolLevel, session.keepaliveSeconds);
    ctx.pipeline().get(InboundGate.class).resume(InboundGate.Pause.AUTH);
  }

  /**
   * A wrong secret, an unknown device or none: CONNACK bad credentials after the refusal delay,
   * holding a refusal slot meanwhile (also if the client goes away: it must not learn "wrong"
   * sooner by giving up), or "server busy" at once when there is no slot.
   */
  private void refusedCredentials(ChannelHandlerContext ctx, Session session, String deviceId) {
    SocketAddress remote = ctx.channel().remoteAddress();
    RefusalGuard.Refusal refusal = refusals.refused(source(ctx), deviceId);
    if (refusal.budgetJustSpent()) {
      log.warn("device {}: its refusal budget for the prefix of {} is spent; while the refusal slots are taken, "
          + "its CONNECTs from there are answered server busy without a check for the rest of the minute",
          deviceId, remote);
    }
    RefusalGuard.Slot slot = refusal.slot();
    if (slot == null) {
      refuse(ctx, session, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE,
          MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_BUSY, "server_busy");
      return;
    }
    log.info("{}: bad username or password for device {}", remote, deviceId);
    try {
      ctx.executor().schedule(() -> {
        slot.close();
        if (ctx.channel().isActive()) {
          refuse(ctx, session, MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
              MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USERNAME_OR_PASSWORD, "bad_credentials");
        }
      }, refusals.delayMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) { // the event loop is shutting down
      slot.close();
      ctx.close();
    }
  }

  private static InetAddress source(ChannelHandlerContext ctx) {
    SocketAddress a = ctx.channel().remoteAddress();
    return a instanceof InetSocketAddress i ? i.getAddress() : null;
  }

  /** The first 80 characters, control characters escaped: for a log line. */
  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && i < 80; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7F) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return s.length() > 80 ? b + "..." : b.toString();
  }

  private MqttMessage connAck(Session session) {
    MqttMessageBuilders.ConnAckBuilder ack =
        MqttMessageBuilders.connAck()
            .returnCode(MqttConnectReturnCode.CONNECTION_ACCEPTED)
            .sessionPresent(false);
    if (session.v5()) {
      MqttMessageBuilders.ConnAckPropertiesBuilder props =
          new MqttMessageBuilders.ConnAckPropertiesBuilder()
              .receiveMaximum(limits.receiveMaximum())
              .maximumPacketSize(limits.maxPacketBytes())
              .retainAvailable(false)
              .wildcardSubscriptionAvailable(false)
              .sharedSubscriptionAvailable(false)
              .subscriptionIdentifiersAvailable(false)
              .topicAliasMaximum(0);
      if (session.assignedClientId) {
        props.assignedClientId(session.clientId);
      }
      ack.properties(props.build());
    }
    return ack.build();
  }

  private void refuse(
      ChannelHandlerContext ctx,
      Session session,
      MqttConnectReturnCode v3,
      MqttConnectReturnCode v5,
      String reason) {
    metrics.reject(reason);
    session.closing = true;
    MqttConnectReturnCode code = session.v5() || v3 == null ? v5 : v3;
    ctx.writeAndFlush(MqttMessageBuilders.connAck().returnCode(code).sessionPresent(false).build())
        .addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    Session session = Session.of(ctx.channel());
    if (session.connected) {
      PresenceEvent.Reason reason =
          session.closeReason == null ? PresenceEvent.Reason.CONNECTION_LOST : session.closeReason;
      registry.end(session, reason, session.cleanDisconnect);
    }
    super.channelInactive(ctx);
  }
}
