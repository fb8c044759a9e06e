package io.safegrid.gateway.coap;

import io.safegrid.gateway.ingest.DeadLetters;
import io.safegrid.gateway.ingest.IngestResult;
import io.safegrid.gateway.ingest.IngestSink;
import io.safegrid.gateway.mqtt.auth.RefusalGuard;
import io.safegrid.gateway.storage.StoreOverloadedException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /devices/{id}/telemetry} or {@code /devices/{id}/events}: authenticates ({@link
 * DeviceAuthenticator}), hands the body to the {@link IngestSink}, and answers:
 *
 * <ul>
 *   <li>2.04 Changed once the sink's future completes (durable, per the contract's delivery
 *       promise); a PARTIAL result carries the refused fields as text.
 *   <li>4.00 Bad Request with a diagnostic text for an INVALID result (already in dead_letters).
 *   <li>4.01 Unauthorized, 4.03 Forbidden: see {@link DeviceAuthenticator}. A 4.03 body is kept
 *       in {@code dead_letters} (CoAPS: under the PSK identity that sent it); a 4.01 is not (no
 *       device is proven, and a datagram's source can be forged). On plain CoAP the refusal
 *       policy of MQTT CONNECT ({@link RefusalGuard}): a right secret is answered at once; a
 *       missing or wrong one (or an unknown device) gets its 4.01 only after the guard's delay (1
 *       s, on a timer, shorter than a CON's first retransmission timeout of 2-3 s), holding one of
 *       the source address's refusal slots; with the source's (or all) slots taken, 5.03 Service
 *       Unavailable (Max-Age 1) at once, reject {@code server_busy}. A request whose (device,
 *       source /24 or /64) is over its refusal budget (10 a minute) while the slots are taken is
 *       not checked: it gets 4.01 with an Echo option ({@link EchoChallenge}, RFC 9175), reject
 *       {@code echo_challenge}, and the device repeats it with the Echo value; datagrams' sources
 *       can be forged, so such budgets may have been spent by anyone, but a repeat with the Echo
 *       value proves its address. Proven requests follow MQTT's policy exactly (a guard of their
 *       own, which forged datagrams cannot reach; over its budget 5.03 unchecked, reject {@code
 *       refusal_budget}). The source a device last posted from with its right secret (its last
 *       known good source) is always checked ({@link RefusalGuard#defaultsForDatagrams}). A site
 *       device's first refusal from a prefix in a minute is logged at INFO, the one that spends
 *       that budget at WARN; the others are only counted.
 *   <li>4.13 Request Entity Too Large above the body bound, its first {@link #KEPT_BYTES} kept in
 *       {@code dead_letters} (block1 transfers are cut off earlier, by Californium's blockwise
 *       layer, and not kept).
 *   <li>Each row kept in {@code dead_letters} for a request is counted in {@code
 *       safegrid.coap.dead_letters{reason}} once durable, by the sink that writes it ({@link
 *       io.safegrid.gateway.ingest.IngestService}).
 *   <li>5.03 Service Unavailable with Max-Age when storage pushes back: {@link
 *       IngestSink#acceptingMore()} is false or the future fails with {@link
 *       StoreOverloadedException}.
 *   <li>5.00 Internal Server Error if the store fails otherwise (nothing acknowledged).
 * </ul>
 *
 * <p>Never blocks a Californium thread: a CON whose future is not yet complete is accepted at once
 * (empty ACK, so the device stops retransmitting) and answered by a separate response from the
 * future's callback. A NON is handed on the same way, best effort, and answered with a NON.
 */
final class IngestResource extends CoapResource {

  private static final Logger log = LoggerFactory.getLogger(IngestResource.class);

  /** Which of the sink's methods this resource feeds. */
  enum Kind {
    TELEMETRY("telemetry"),
    EVENTS("events");

    final String path;

    Kind(String path) {
      this.path = path;
    }
  }

  /** Bytes of an oversize body kept in {@code dead_letters}, as MQTT keeps of an oversize PUBLISH. */
  static final int KEPT_BYTES = 4096;

  private final Kind kind;
  private final IngestSink sink;
  private final DeadLetters deadLetters;
  private final DeviceAuthenticator authenticator;
  private final CoapMetrics metrics;
  private final int maxBodyBytes;
  private final int overloadMaxAgeSeconds;
  private final CoapPresenceListener presence;
  private final RefusalGuard refusals;
  private final RefusalGuard provenRefusals;
  private final EchoChallenge echo;
  private final ScheduledExecutorService refusalTimer;

  IngestResource(
      Kind kind,
      IngestSink sink,
      DeviceAuthenticator authenticator,
      CoapMetrics metrics,
      int maxBodyBytes,
      int overloadMaxAgeSeconds,
      CoapPresenceListener presence,
      RefusalGuard refusals,
      RefusalGuard provenRefusals,
      EchoChallenge echo,
      ScheduledExecutorService refusalTimer) {
    super(kind.path);
    this.refusals = refusals;
    this.provenRefusals = provenRefusals;
    this.echo = echo;
    this.refusalTimer = refusalTimer;
    this.presence = presence;
    this.kind = kind;
    this.sink = sink;
    this.deadLetters = new DeadLetters(sink);
    this.authenticator = authenticator;
    this.metrics = metrics;
    this.maxBodyBytes = maxBodyBytes;
    this.overloadMaxAgeSeconds = overloadMaxAgeSeconds;
  }

  @Override
  public void handlePOST(CoapExchange exchange) {
    long startNanos = System.nanoTime();
    Request request = exchange.advanced().getRequest();
    boolean con = request.isConfirmable();
    List<String> path = request.getOptions().getUriPath();
    String deviceId = path.get(path.size() - 2);
    byte[] payload = request.getPayloadSize() == 0 ? new byte[0] : request.getPayload();
    metrics.message(con, kind.path, payload.length);

    String source = request.getScheme() + ":/" + String.join("/", path);
    // plain CoAP: no DTLS identity, the secret travels in the request (DeviceAuthenticator)
    boolean plain = request.getSourceContext() == null || request.getSourceContext().getPeerIdentity() == null;
    InetAddress from = request.getSourceContext() == null || request.getSourceContext().getPeerAddress() == null
        ? null : request.getSourceContext().getPeerAddress().getAddress();
    // a repeat with our Echo value has proven its address: the guard forged datagrams cannot reach
    RefusalGuard guard = plain && echo.proven(request, from) ? provenRefusals : refusals;
    if (plain && guard.refuseUnchecked(from, deviceId)) {
      // not checked: nothing to learn from either answer
      if (guard == provenRefusals) {
        busy(exchange, "refusal_budget", startNanos, con);
      } else {
        challenge(exchange, from, startNanos, con);
      }
      return;
    }
    switch (authenticator.check(request, deviceId)) {
      case UNAUTHORIZED -> {
        if (plain) {
          refusedSecret(exchange, guard, from, deviceId, startNanos, con);
          return;
        }
        // not kept: no device is proven, and anyone can send a datagram (with a forged source)
        reject(exchange, ResponseCode.UNAUTHORIZED, "unauthorized",
            "device secret missing or wrong (CoAPS: DTLS PSK; plain CoAP: option "
                + DeviceSecretOption.NUMBER + " or ?s=)", startNanos, con);
        return;
      }
      case FOREIGN_RESOURCE -> {
        String sender = DeviceAuthenticator.pskIdentity(request);
        keep(sender, payload, source, "forbidden", "CoAPS POST by device " + sender + " to another device's "
            + "resource (a device may post only to /devices/{its id}/...): 4.03 Forbidden, not stored");
        reject(exchange, ResponseCode.FORBIDDEN, "forbidden",
            "a device may post only to /devices/{its id}/...", startNanos, con);
        return;
      }
      case PLAIN_NOT_ALLOWED -> {
        keep(deviceId, payload, source, "plain_not_allowed",
            "plain CoAP is switched off for this device's type: 4.03 Forbidden, not stored (use CoAPS)");
        reject(exchange, ResponseCode.FORBIDDEN, "plain_not_allowed",
            "plain CoAP is switched off for this device type: use CoAPS", startNanos, con);
        return;
      }
      case OK -> {
        if (plain) {
          refusals.accepted(from, deviceId); // its last known good source: always checked from now on
          provenRefusals.accepted(from, deviceId);
        }
      }
    }
    try {
      presence.onMessage(deviceId, System.currentTimeMillis());
    } catch (RuntimeException e) {
      log.warn("presence listener failed for {}: {}", deviceId, e.toString());
    }
    if (payload.length > maxBodyBytes) {
      // counted as too_large by the endpoint interceptor, like blockwise 4.13s
      keep(deviceId, java.util.Arrays.copyOf(payload, Math.min(payload.length, KEPT_BYTES)), source, "too_large",
          "CoAP body of " + payload.length + " bytes over the maximum of " + maxBodyBytes
              + " bytes: 4.13 Request Entity Too Large, not stored; kept the first "
              + Math.min(payload.length, KEPT_BYTES) + " bytes (at most " + KEPT_BYTES + ")");
      Response tooLarge = new Response(ResponseCode.REQUEST_ENTITY_TOO_LARGE);
      tooLarge.getOptions().setSize1(maxBodyBytes);
      exchange.respond(tooLarge);
      metrics.latency(con, System.nanoTime() - startNanos);
      return;
    }
    if (!sink.acceptingMore()) {
      overloaded(exchange, startNanos, con);
      return;
    }
    CompletableFuture<IngestResult> stored;
    try {
      long now = System.currentTimeMillis();
      stored =
          kind == Kind.TELEMETRY
              ? sink.telemetry(deviceId, payload, now, source)
              : sink.events(deviceId, payload, now, source);
    } catch (RuntimeException e) {
      stored = CompletableFuture.failedFuture(e);
    }
    if (!stored.isDone()) {
      exchange.accept(); // empty ACK now; the 2.04 follows as a separate response
    }
    stored.whenComplete((result, error) -> answer(exchange, result, error, startNanos, con));
  }

  private void answer(
      CoapExchange exchange, IngestResult result, Throwable error, long startNanos, boolean con) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
    if (cause instanceof StoreOverloadedException) {
      overloaded(exchange, startNanos, con);
    } else if (cause != null) {
      log.warn("store failed for {}: {}", exchange.advanced().getRequest().getURI(), cause.toString());
      reject(exchange, ResponseCode.INTERNAL_SERVER_ERROR, "store_failed",
          "storage failed; retry later", startNanos, con);
    } else if (result.status() == IngestResult.Status.INVALID) {
      reject(exchange, ResponseCode.BAD_REQUEST, "invalid_payload",
          String.join("; ", result.rejections()), startNanos, con);
    } else {
      Response changed = new Response(ResponseCode.CHANGED);
      if (!result.rejections().isEmpty()) {
        text(changed, "stored " + result.stored() + "; refused: "
            + String.join("; ", result.rejections()));
      }
      exchange.respond(changed);
      metrics.latency(con, System.nanoTime() - startNanos);
    }
  }

  /**
   * Keeps a refused request's body in {@code dead_letters} ({@link DeadLetters}) without waiting
   * for it, counted by the sink in {@code safegrid.coap.dead_letters{reason=tag}} once durable; an
   * empty body keeps nothing.
   */
  private void keep(String deviceId, byte[] payload, String source, String tag, String reason) {
    if (payload.length == 0) {
      return;
    }
    deadLetters.keep(deviceId, source, payload, tag, reason);
  }

  /**
   * A plain CoAP request with a missing or wrong secret (or for an unknown device): 4.01 after the
   * refusal delay, holding a refusal slot meanwhile; 5.03 at once when there is no slot.
   */
  private void refusedSecret(CoapExchange exchange, RefusalGuard guard, InetAddress from, String deviceId,
      long startNanos, boolean con) {
    RefusalGuard.Refusal refusal = guard.refused(from, deviceId);
    if (refusal.budgetJustSpent()) {
      log.warn("device {}: its refusal budget for the prefix of {} is spent (plain CoAP requests with a wrong "
          + "secret); while the refusal slots are taken, its requests from there are answered without a check "
          + "for the rest of the minute (4.01 with an Echo option; 5.03 to repeats with Echo), except from its "
          + "last known good source",
          deviceId, from);
    } else if (refusal.firstInWindow()) {
      log.info("device {}: plain CoAP request with a missing or wrong secret from {}: 4.01 (further ones this "
          + "minute are only counted, safegrid.coap.rejects)", deviceId, from);
    }
    RefusalGuard.Slot slot = refusal.slot();
    if (slot == null) {
      busy(exchange, "server_busy", startNanos, con);
      return;
    }
    Runnable answer = () -> {
      slot.close();
      reject(exchange, ResponseCode.UNAUTHORIZED, "unauthorized",
          "device secret missing or wrong (CoAPS: DTLS PSK; plain CoAP: option "
              + DeviceSecretOption.NUMBER + " or ?s=)", startNanos, con);
    };
    try {
      refusalTimer.schedule(answer, guard.delayMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) { // shutting down
      answer.run();
    }
  }

  /**
   * 4.01 with an Echo option (RFC 9175 2.4), the secret not checked: the request's (device, prefix)
   * budget is spent while the slots are taken, which forged datagrams can do; a device that
   * repeats the request with the Echo value has proven its address and is checked ({@link
   * EchoChallenge}).
   */
  private void challenge(CoapExchange exchange, InetAddress from, long startNanos, boolean con) {
    metrics.reject("echo_challenge");
    Response unauthorized = new Response(ResponseCode.UNAUTHORIZED);
    echo.challenge(unauthorized, from);
    text(unauthorized, "busy with wrong secrets for this device: repeat the request with this Echo option (RFC 9175)");
    exchange.respond(unauthorized);
    metrics.latency(con, System.nanoTime() - startNanos);
  }

  /** 5.03 with Max-Age 1 s: the refusal slots are taken (see {@link RefusalGuard}). */
  private void busy(CoapExchange exchange, String reason, long startNanos, boolean con) {
    metrics.reject(reason);
    Response unavailable = new Response(ResponseCode.SERVICE_UNAVAILABLE);
    unavailable.getOptions().setMaxAge(1);
    text(unavailable, "server busy; retry after Max-Age seconds");
    exchange.respond(unavailable);
    metrics.latency(con, System.nanoTime() - startNanos);
  }

  private void overloaded(CoapExchange exchange, long startNanos, boolean con) {
    metrics.reject("overloaded");
    Response unavailable = new Response(ResponseCode.SERVICE_UNAVAILABLE);
    unavailable.getOptions().setMaxAge(overloadMaxAgeSeconds);
    text(unavailable, "storage is busy; retry after Max-Age seconds");
    exchange.respond(unavailable);
    metrics.latency(con, System.nanoTime() - startNanos);
  }

  private void reject(CoapExchange exchange, ResponseCode code, String reason, String diagnostic,
      long startNanos, boolean con) {
    metrics.reject(reason);
    Response response = new Response(code);
    text(response, diagnostic);
    exchange.respond(response);
    metrics.latency(con, System.nanoTime() - startNanos);
  }

  /** Diagnostic payload (RFC 7252 5.5.2): UTF-8 text, cut to fit one datagram. */
  private static void text(Response response, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > 512) {
      text = new String(bytes, 0, 509, StandardCharsets.UTF_8) + "...";
    }
    response.setPayload(text);
    response.getOptions().setContentFormat(MediaTypeRegistry.TEXT_PLAIN);
  }
}
