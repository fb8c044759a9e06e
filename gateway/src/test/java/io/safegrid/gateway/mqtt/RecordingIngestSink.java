package io.safegrid.gateway.mqtt;

import io.safegrid.gateway.ingest.IngestResult;
import io.safegrid.gateway.ingest.IngestSink;
import io.safegrid.gateway.storage.StoreOverloadedException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The seam, not the database: records what the MQTT server hands over. A payload that does not
 * start with '{' or '[' is INVALID. With {@link #hold} set, futures stay open until {@link
 * #releaseAll()}, to see that nothing is acknowledged before "durable".
 */
final class RecordingIngestSink implements IngestSink {

  record Received(String kind, String deviceId, String payload, String source) {}

  final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();
  /** Dead letters of refused messages ({@link IngestSink#refused}): payload, the counter's tag, reason. */
  final ConcurrentLinkedQueue<Refused> refused = new ConcurrentLinkedQueue<>();

  record Refused(String deviceId, byte[] payload, String source, String tag, String reason) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }
  }
  final ConcurrentLinkedQueue<CompletableFuture<IngestResult>> held = new ConcurrentLinkedQueue<>();
  final AtomicInteger outstanding = new AtomicInteger();
  final AtomicInteger maxOutstanding = new AtomicInteger();
  volatile boolean hold;
  volatile boolean accepting = true;
  /**
   * A payload containing one of these is pushed back once ({@link StoreOverloadedException}, as
   * storage does when its spool is full), not recorded; the marker is then forgotten.
   */
  final java.util.Set<String> pushBackOnce = java.util.concurrent.ConcurrentHashMap.newKeySet();
  final AtomicInteger pushedBack = new AtomicInteger();

  @Override
  public CompletableFuture<IngestResult> telemetry(String deviceId, byte[] payload, long at, String source) {
    return take("telemetry", deviceId, payload, source);
  }

  @Override
  public CompletableFuture<IngestResult> events(String deviceId, byte[] payload, long at, String source) {
    return take("events", deviceId, payload, source);
  }

  private CompletableFuture<IngestResult> take(String kind, String deviceId, byte[] payload, String source) {
    String text = new String(payload, StandardCharsets.UTF_8);
    for (String marker : pushBackOnce) {
      if (text.contains(marker) && pushBackOnce.remove(marker)) {
        pushedBack.incrementAndGet();
        return CompletableFuture.failedFuture(new StoreOverloadedException("pushed back by the test"));
      }
    }
    received.add(new Received(kind, deviceId, text, source));
    boolean valid = text.startsWith("{") || text.startsWith("[");
    IngestResult result = valid
        ? new IngestResult(IngestResult.Status.ACCEPTED, 1, List.of())
        : new IngestResult(IngestResult.Status.INVALID, 0, List.of("not JSON"));
    if (!hold) {
      return CompletableFuture.completedFuture(result);
    }
    int now = outstanding.incrementAndGet();
    maxOutstanding.accumulateAndGet(now, Math::max);
    CompletableFuture<IngestResult> f = new CompletableFuture<>();
    held.add(f);
    return f.thenApply(
        v -> {
          outstanding.decrementAndGet();
          return result;
        });
  }

  @Override
  public CompletableFuture<IngestResult> refused(
      String deviceId, byte[] payload, String source, String tag, String reason) {
    refused.add(new Refused(deviceId, payload, source, tag, reason));
    return CompletableFuture.completedFuture(new IngestResult(IngestResult.Status.INVALID, 0, List.of(reason)));
  }

  /** Completes every held future (as if committed). */
  void releaseAll() {
    CompletableFuture<IngestResult> f;
    while ((f = held.poll()) != null) {
      f.complete(null);
    }
  }

  long count(String deviceId) {
    return received.stream().filter(r -> r.deviceId().equals(deviceId)).count();
  }

  @Override
  public boolean acceptingMore() {
    return accepting;
  }
}
