package io.safegrid.gateway.mqtt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttReasonCodes;
import io.safegrid.gateway.ingest.DeadLetters;
import io.safegrid.gateway.ingest.IngestResult;
import io.safegrid.gateway.ingest.IngestSink;
import io.safegrid.gateway.storage.StoreOverloadedException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PUBLISH in, QoS 0, 1 and 2, with the contract's delivery promise.
 *
 * <ul>
 *   <li>Retain: the CONNACK says Retain Available = 0 (nothing is ever retained or delivered). On
 *       MQTT 5 a PUBLISH with RETAIN=1 is a protocol error (MQTT 5.0 3.3.1.3, 3.2.2.3.5): DISCONNECT
 *       0x9A retain not supported, reject {@code retain_not_supported}, the message kept as a
 *       dead letter and not stored. MQTT 3.1.1 (no Retain Available, no way to refuse it): the
 *       retain flag is ignored and the message stored like any other.
 *   <li>Topic ACL ({@link TopicAcl}): elsewhere is refused, reject {@code acl_publish}, and kept
 *       as a dead letter ({@link IngestSink#refused}, contract "Delivery promise"): MQTT 5 PUBACK /
 *       PUBREC 0x87 once the dead letter is durable, in arrival order (QoS 0: no answer); MQTT
 *       3.1.1 closes the connection (it has no negative PUBACK).
 *   <li>Oversize PUBLISH (refused by the decoder, see {@link MalformedPacketHandler}): kept as a
 *       dead letter with its size and the first {@link OversizeCapture#KEPT_PAYLOAD_BYTES} bytes
 *       of its payload.
 *   <li>Telemetry and events go to the {@link IngestSink}; the PUBACK (QoS 1) or PUBREC (QoS 2) is
 *       sent only when its future completes, i.e. when durable. Acks leave in the order the
 *       PUBLISH packets arrived (MQTT 3.1.1 4.6). An INVALID result (kept in dead_letters) gets
 *       reason 0x99 payload format invalid on MQTT 5, a plain PUBACK on 3.1.1.
 *   <li>A failed store is never acknowledged: on {@link StoreOverloadedException} the message is
 *       offered again after a pause (socket not read meanwhile); on any other failure the
 *       connection is closed so the client sends it again.
 *   <li>QoS 2 (MQTT 3.1.1 4.3.3, method B): the packet id is held from PUBLISH to PUBREL; a
 *       duplicate PUBLISH with a held id is not stored again (its PUBREC is sent again); PUBREL
 *       releases the id and is answered with PUBCOMP.
 *   <li>At most {@link MqttLimits#receiveMaximum()} messages per connection are being stored at
 *       once; when full, or when the sink says it is not accepting more, the socket is not read.
 *   <li>Status ({@code devices/{id}/status}): {@code online} / {@code offline} (or JSON with a
 *       {@code status} or {@code online} field) sets presence; acknowledged at once.
 * </ul>
 */
final class PublishHandler extends ChannelInboundHandlerAdapter implements LoopCompletions.Flushable {

  private static final Logger log = LoggerFactory.getLogger(PublishHandler.class);
  private static final long STORAGE_RETRY_MILLIS = 100;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final IngestSink sink;
  private final DeadLetters deadLetters;
  private final AclRefusalLog aclRefusals;
  private final SessionRegistry registry;
  private final MqttMetrics metrics;
  private final int receiveMaximum;
  private final LoopCompletionsProvider completionsProvider;
  private LoopCompletions completions;
  private InboundGate gate;
  /** Set while this connection waits for the flush at the end of a completion burst. */
  private boolean flushQueued;
  /** Acks written since the last flush. */
  private boolean unflushed;

  private final ArrayDeque<Pending> acks = new ArrayDeque<>();
  /** QoS 2 packet ids held until PUBREL: id -> PUBREC sent yet. */
  private final Map<Integer, Boolean> qos2Held = new HashMap<>();
  private int inflight;
  private boolean storageCheckScheduled;
  private ChannelHandlerContext ctx;

  /** The {@link LoopCompletions} of an event loop (one per loop, shared by its connections). */
  interface LoopCompletionsProvider {
    LoopCompletions of(io.netty.util.concurrent.EventExecutor loop);
  }

  PublishHandler(
      IngestSink sink,
      DeadLetters deadLetters,
      AclRefusalLog aclRefusals,
      SessionRegistry registry,
      MqttMetrics metrics,
      int receiveMaximum,
      LoopCompletionsProvider completions) {
    this.sink = sink;
    this.deadLetters = deadLetters;
    this.aclRefusals = aclRefusals;
    this.registry = registry;
    this.metrics = metrics;
    this.receiveMaximum = receiveMaximum;
    this.completionsProvider = completions;
  }

  /**
   * One PUBLISH awaiting its durable store, in arrival order; also the completion handed back to
   * the event loop ({@link LoopCompletions}) with the store's outcome.
   */
  private final class Pending implements LoopCompletions.Completion {
    final TopicAcl.Kind kind;
    final int qos;
    final int packetId;
    final long receivedNanos;
    final long receivedMillis;
    final byte[] payload;
    final String topic;
    /** Why the server refused it (kept as a dead letter, acked 0x87 on MQTT 5); null if taken. */
    String refusal;
    boolean done;
    byte reasonCode;
    /** The store's outcome, set on the completing thread before {@link #run} on the loop. */
    IngestResult result;
    Throwable error;

    Pending(TopicAcl.Kind kind, int qos, int packetId, String topic, byte[] payload) {
      this.kind = kind;
      this.qos = qos;
      this.packetId = packetId;
      this.topic = topic;
      this.payload = payload;
      this.receivedNanos = System.nanoTime();
      this.receivedMillis = System.currentTimeMillis();
    }

    @Override
    public void run() {
      IngestResult r = result;
      Throwable e = error;
      result = null;
      error = null;
      completed(this, r, e);
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.completions = completionsProvider.of(ctx.executor());
  }

  private InboundGate gate() {
    if (gate == null) {
      gate = ctx.pipeline().get(InboundGate.class);
    }
    return gate;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    MqttMessage m = (MqttMessage) msg;
    MqttMessageType type = m.fixedHeader().messageType();
    if (type == MqttMessageType.PUBLISH) {
      MqttPublishMessage publish = (MqttPublishMessage) m;
      try {
        publish(Session.of(ctx.channel()), publish);
      } finally {
        publish.release();
      }
      return;
    }
    if (type == MqttMessageType.PUBREL) {
      pubrel(Session.of(ctx.channel()), ((MqttMessageIdVariableHeader) m.variableHeader()).messageId());
      return;
    }
    ctx.fireChannelRead(msg);
  }

  private void publish(Session session, MqttPublishMessage publish) {
    String topic = publish.variableHeader().topicName();
    int qos = publish.fixedHeader().qosLevel().value();
    int packetId = publish.variableHeader().packetId();
    if (topic == null || topic.isEmpty()) {
      // MQTT 3.1.1 4.7.3-1: a topic name has at least one character; MQTT 5.0 3.3.2.1: a zero
      // length topic without a Topic Alias (not supported here: Topic Alias Maximum 0) is a
      // protocol error. Not an ACL matter: the connection ends.
      metrics.reject("malformed");
      log.info("device {}: PUBLISH with an empty topic, closing", session.deviceId);
      session.disconnect(PresenceEvent.Reason.PROTOCOL_ERROR, MqttReasonCodes.Disconnect.PROTOCOL_ERROR);
      return;
    }
    if (publish.fixedHeader().isRetain() && session.v5()) {
      // MQTT 5.0 3.3.1.3 / 3.2.2.3.5: the CONNACK said Retain Available = 0, so RETAIN=1 is a
      // protocol error: DISCONNECT 0x9A. The message is kept as a dead letter, not stored.
      // MQTT 3.1.1 has no way to refuse it: the retain flag is ignored and the message stored.
      metrics.reject("retain_not_supported");
      log.info("device {}: PUBLISH with RETAIN=1 on MQTT 5 (Retain Available = 0), closing", session.deviceId);
      keep(session, topic, ByteBufUtil.getBytes(publish.content()), "retain_not_supported",
          "PUBLISH with RETAIN=1 on MQTT 5, but the CONNACK said Retain Available = 0"
              + " (MQTT 5.0 3.3.1.3): DISCONNECT 0x9A, not stored");
      session.disconnect(PresenceEvent.Reason.PROTOCOL_ERROR, MqttReasonCodes.Disconnect.RETAIN_NOT_SUPPORTED);
      return;
    }
    TopicAcl.Kind kind = TopicAcl.publishKind(session.deviceId, topic);
    if (kind == null) {
      metrics.reject("acl_publish");
      aclRefusals.refused(session.deviceId, topic, ctx.executor());
      String reason = "PUBLISH to a topic device " + session.deviceId + " may not use (contract \"Devices\":"
          + " only devices/" + session.deviceId + "/telemetry, /events, /status): ";
      if (!session.v5()) {
        // 3.1.1 has no negative PUBACK: the connection ends; the message is kept all the same
        keep(session, topic, ByteBufUtil.getBytes(publish.content()), "acl_publish",
            reason + "MQTT 3.1.1 connection closed, not stored");
        session.disconnect(PresenceEvent.Reason.PROTOCOL_ERROR, null);
        return;
      }
      // MQTT 5: PUBACK / PUBREC 0x87 once the dead letter is durable, in arrival order
      Pending refused = new Pending(null, qos, packetId, topic, ByteBufUtil.getBytes(publish.content()));
      refused.refusal = reason + "MQTT 5 reason code 0x87 not authorized, not stored";
      take(session, refused);
      return;
    }
    if (qos == 2 && qos2Held.containsKey(packetId)) {
      if (qos2Held.get(packetId)) {
        ctx.writeAndFlush(ack(2, packetId, (byte) 0));
      }
      return;
    }
    Pending pending = new Pending(kind, qos, packetId, topic, ByteBufUtil.getBytes(publish.content()));
    if (qos == 2) {
      qos2Held.put(packetId, false);
    }
    take(session, pending);
  }

  /** Queues a PUBLISH for its ack in arrival order, hands it on, and pauses reading if full. */
  private void take(Session session, Pending pending) {
    acks.add(pending);
    inflight++;
    if (pending.kind == TopicAcl.Kind.STATUS && status(session, pending.payload)) {
      completed(pending, new IngestResult(IngestResult.Status.ACCEPTED, 0, List.of()), null);
    } else {
      submit(session, pending);
    }
    InboundGate gate = gate();
    if (inflight >= receiveMaximum && !gate.isPaused(InboundGate.Pause.INFLIGHT)) {
      metrics.throttled("inflight");
      gate.pause(InboundGate.Pause.INFLIGHT);
    }
    if (!sink.acceptingMore()) {
      pauseForStorage();
    }
  }

  /**
   * Keeps a refused PUBLISH in {@code dead_letters} ({@link DeadLetters}) without waiting for it:
   * the connection is ending, nothing will be acknowledged. Counted in {@code
   * safegrid.mqtt.dead_letters{reason}} once durable; a dead letter storage refuses (e.g.
   * overloaded) is logged and lost.
   */
  private void keep(Session session, String topic, byte[] payload, String tag, String reason) {
    deadLetters.keep(session.deviceId, source(topic), payload, tag, reason);
  }

  /**
   * An oversize PUBLISH ({@link OversizeCapture}, told by {@link MalformedPacketHandler}): kept as
   * a dead letter with its declared size and at most {@link OversizeCapture#KEPT_PAYLOAD_BYTES} of
   * its payload; the connection is ending.
   */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof OversizeCapture.Captured) {
      OversizeCapture.Captured c = (OversizeCapture.Captured) evt;
      Session session = Session.of(ctx.channel());
      keep(session, c.topic() == null ? "(topic not received)" : c.topic(), c.payloadStart(), "packet_too_large",
          "PUBLISH of " + c.declaredBytes() + " bytes (remaining length) over the maximum packet size of "
              + c.maxPacketBytes() + " bytes ("
              + (session.v5() ? "MQTT 5 DISCONNECT 0x95" : "MQTT 3.1.1 connection closed")
              + "), not stored; kept the first " + c.payloadStart().length + " bytes of its payload (at most "
              + OversizeCapture.KEPT_PAYLOAD_BYTES + ")");
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  /** The dead letter's source for a topic, bounded (a topic may be 65,535 bytes). */
  static String source(String topic) {
    String t = topic == null ? "" : topic;
    return "mqtt:" + (t.length() <= 200 ? t : t.substring(0, 200) + "...");
  }

  private void submit(Session session, Pending pending) {
    CompletableFuture<IngestResult> future;
    String source = "mqtt:" + pending.topic;
    try {
      future = pending.refusal != null
          ? sink.refused(session.deviceId, pending.payload, source(pending.topic), "acl_publish", pending.refusal)
          : switch (pending.kind) {
            case TELEMETRY -> sink.telemetry(session.deviceId, pending.payload, pending.receivedMillis, source);
            case EVENTS -> sink.events(session.deviceId, pending.payload, pending.receivedMillis, source);
            // a status payload that says neither online nor offline: kept as a dead letter
            case STATUS -> sink.rejected(session.deviceId, pending.payload, source,
                "status payload is neither online nor offline (nor JSON {\"status\":\"online\"|\"offline\"}"
                    + " or {\"online\":true|false})");
          };
    } catch (RuntimeException e) {
      future = CompletableFuture.failedFuture(e);
    }
    if (future.isDone()) {
      // e.g. refused at once (store overloaded): no hop needed, we are on the loop
      IngestResult result = null;
      Throwable error = null;
      try {
        result = future.join();
      } catch (CompletionException | java.util.concurrent.CancellationException e) {
        error = e;
      }
      account(session.deviceId, pending, result, error);
      completed(pending, result, error);
      return;
    }
    String deviceId = session.deviceId;
    future.whenComplete((result, error) -> {
      account(deviceId, pending, result, error);
      pending.result = result;
      pending.error = error;
      completions.complete(pending);
    });
  }

  /**
   * Counts an undecodable payload in {@code rejects} the moment its future completes, on whatever
   * thread completes it, and not on the event loop when the ack is due: by then a QoS 0 publisher
   * may have gone (e.g. mosquitto_pub sends PUBLISH and DISCONNECT at once) and the count would be
   * lost (newcomer finding M1). Its dead letter, and every other, is counted by the sink that
   * keeps it ({@link io.safegrid.gateway.ingest.IngestService}). A dead letter of an ACL refusal
   * that was not kept is logged here; a store push-back ({@link StoreOverloadedException}) is
   * offered again.
   */
  private void account(String deviceId, Pending pending, IngestResult result, Throwable error) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof StoreOverloadedException) {
      return;
    }
    if (pending.refusal != null) {
      if (cause != null) {
        log.warn("device {}: dead letter (acl_publish) not kept: {}", deviceId, cause.toString());
      }
      return;
    }
    if (cause != null || result == null) {
      return; // store_failed: counted on the loop, where the connection is closed
    }
    if (result.status() == IngestResult.Status.INVALID) {
      metrics.reject("invalid_payload");
    }
  }

  private void completed(Pending pending, IngestResult result, Throwable error) {
    Session session = Session.of(ctx.channel());
    if (!ctx.channel().isActive()) {
      closedCompleted(session, pending, error);
      return;
    }
    if (error != null) {
      Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      if (cause instanceof StoreOverloadedException) {
        pauseForStorage();
        ctx.executor().schedule(() -> {
          if (ctx.channel().isActive()) {
            submit(session, pending);
          }
        }, STORAGE_RETRY_MILLIS, TimeUnit.MILLISECONDS);
        return;
      }
      if (pending.refusal == null) {
        metrics.reject("store_failed");
        log.error("device {}: storing a PUBLISH failed; closing without PUBACK so it is sent again",
            session.deviceId, cause);
        session.disconnect(PresenceEvent.Reason.CONNECTION_LOST, MqttReasonCodes.Disconnect.UNSPECIFIED_ERROR);
        return;
      }
      // the refusal stands (0x87) even if its dead letter could not be kept (logged by account)
    }
    pending.done = true;
    if (pending.refusal != null) {
      pending.reasonCode = MqttReasonCodes.PubAck.NOT_AUTHORIZED.byteValue();
    } else if (result.status() == IngestResult.Status.INVALID) {
      pending.reasonCode = session.v5() ? MqttReasonCodes.PubAck.PAYLOAD_FORMAT_INVALID.byteValue() : 0;
    }
    inflight--;
    writeAcks();
    if (inflight < receiveMaximum) {
      gate().resume(InboundGate.Pause.INFLIGHT);
    }
  }

  /**
   * A PUBLISH received before the connection closed ({@link InboundGate} still hands those on)
   * completed: no ack can be sent any more, but a store push-back is offered again until it is
   * stored, and any other store failure is counted ({@code store_failed}) and logged, since the
   * client will not be told (QoS 0) or will resend (QoS 1/2, no PUBACK went out).
   */
  private void closedCompleted(Session session, Pending pending, Throwable error) {
    if (error == null || pending.refusal != null) {
      return;
    }
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof StoreOverloadedException) {
      ctx.executor().schedule(() -> submit(session, pending), STORAGE_RETRY_MILLIS, TimeUnit.MILLISECONDS);
      return;
    }
    metrics.reject("store_failed");
    log.error("device {}: storing a QoS {} PUBLISH received before the connection closed failed; not stored",
        session.deviceId, pending.qos, cause);
  }

  /**
   * Writes the acks now due (in arrival order, up to the first message not yet durable); the
   * flush follows at the end of the current completion burst ({@link LoopCompletions}), so one
   * committed storage batch costs each connection one write to the socket.
   */
  private void writeAcks() {
    boolean wrote = false;
    while (!acks.isEmpty() && acks.peek().done) {
      Pending p = acks.poll();
      if (p.qos == 0) {
        continue;
      }
      if (p.qos == 2 && p.refusal == null) {
        // a PUBREC >= 0x80 ends the QoS 2 flow (MQTT 5.0 4.3.3): no PUBREL follows, nothing held
        qos2Held.put(p.packetId, true);
      }
      ctx.write(ack(p.qos, p.packetId, p.reasonCode));
      metrics.pubackLatency.record(System.nanoTime() - p.receivedNanos, TimeUnit.NANOSECONDS);
      wrote = true;
    }
    if (wrote) {
      unflushed = true;
      if (!flushQueued) {
        flushQueued = true;
        completions.flushLater(this);
      }
    }
  }

  @Override
  public void flushNow() {
    flushQueued = false;
    if (unflushed) {
      unflushed = false;
      ctx.flush();
    }
  }

  private void pauseForStorage() {
    InboundGate gate = gate();
    if (!gate.isPaused(InboundGate.Pause.STORAGE)) {
      metrics.throttled("storage");
      gate.pause(InboundGate.Pause.STORAGE);
    }
    if (!storageCheckScheduled) {
      storageCheckScheduled = true;
      ctx.executor().schedule(this::checkStorage, STORAGE_RETRY_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  private void checkStorage() {
    storageCheckScheduled = false;
    if (!ctx.channel().isActive()) {
      return;
    }
    if (sink.acceptingMore()) {
      gate().resume(InboundGate.Pause.STORAGE);
    } else {
      pauseForStorage();
    }
  }

  private void pubrel(Session session, int packetId) {
    Boolean held = qos2Held.remove(packetId);
    byte reason = held == null && session.v5()
        ? MqttReasonCodes.PubComp.PACKET_IDENTIFIER_NOT_FOUND.byteValue()
        : 0;
    ctx.writeAndFlush(reply(MqttMessageType.PUBCOMP, packetId, reason, session.v5()));
  }

  private MqttMessage ack(int qos, int packetId, byte reasonCode) {
    Session session = Session.of(ctx.channel());
    if (qos == 1) {
      return MqttMessageBuilders.pubAck().packetId(packetId).reasonCode(reasonCode).build();
    }
    return reply(MqttMessageType.PUBREC, packetId, reasonCode, session.v5());
  }

  private static MqttMessage reply(MqttMessageType type, int packetId, byte reasonCode, boolean v5) {
    return new MqttMessage(
        new MqttFixedHeader(type, false, MqttQoS.AT_MOST_ONCE, false, 0),
        v5 ? new MqttPubReplyMessageVariableHeader(packetId, reasonCode, MqttProperties.NO_PROPERTIES)
            : MqttMessageIdVariableHeader.from(packetId));
  }

  /**
   * {@code online} / {@code offline} (optionally quoted), or JSON {@code {"status":"online"}} /
   * {@code {"online":true}}.
   *
   * @return false if the payload says neither
   */
  private boolean status(Session session, byte[] payload) {
    String text = new String(payload, StandardCharsets.UTF_8).trim().toLowerCase(Locale.ROOT);
    Boolean online = null;
    if (text.equals("online") || text.equals("\"online\"")) {
      online = true;
    } else if (text.equals("offline") || text.equals("\"offline\"")) {
      online = false;
    } else if (text.startsWith("{")) {
      try {
        JsonNode node = JSON.readTree(text);
        if (node.path("online").isBoolean()) {
          online = node.path("online").booleanValue();
        } else if ("online".equals(node.path("status").asText())) {
          online = true;
        } else if ("offline".equals(node.path("status").asText())) {
          online = false;
        }
      } catch (java.io.IOException e) {
        online = null;
      }
    }
    if (online == null) {
      log.info("device {}: status payload not understood: {}", session.deviceId,
          text.length() > 80 ? text.substring(0, 80) + "..." : text);
      return false;
    }
    registry.status(session, online);
    return true;
  }
}
