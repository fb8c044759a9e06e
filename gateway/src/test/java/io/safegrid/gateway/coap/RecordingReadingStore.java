package io.safegrid.gateway.coap;

import io.safegrid.gateway.storage.ReadingStore;
import io.safegrid.gateway.storage.StoreOverloadedException;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A test seam behind the real {@code IngestService}: records what would be stored. Futures
 * complete at once, or are held until {@link #release()} (to show a CON waits for durability), or
 * fail with {@link StoreOverloadedException}.
 */
final class RecordingReadingStore implements ReadingStore {

  record DeadLetter(String deviceId, String source, String reason, byte[] payload) {}

  final List<Reading> readings = new CopyOnWriteArrayList<>();
  final List<DeviceEvent> events = new CopyOnWriteArrayList<>();
  final List<DeadLetter> deadLetters = new CopyOnWriteArrayList<>();
  private final List<CompletableFuture<Void>> held = new CopyOnWriteArrayList<>();
  volatile boolean accepting = true;
  volatile boolean hold;
  volatile boolean overloaded;

  @Override
  public CompletableFuture<Void> submit(List<Reading> batch) {
    return outcome(() -> readings.addAll(batch));
  }

  @Override
  public CompletableFuture<Void> submitEvent(DeviceEvent event) {
    return outcome(() -> events.add(event));
  }

  @Override
  public CompletableFuture<Void> deadLetter(
      String deviceId, String source, String reason, byte[] payload) {
    deadLetters.add(new DeadLetter(deviceId, source, reason, payload));
    return CompletableFuture.completedFuture(null);
  }

  private CompletableFuture<Void> outcome(Runnable store) {
    if (overloaded) {
      return CompletableFuture.failedFuture(new StoreOverloadedException("spool full"));
    }
    CompletableFuture<Void> f = new CompletableFuture<>();
    if (hold) {
      held.add(f);
      f.thenRun(store);
    } else {
      store.run();
      // complete from another thread, as a real store's committer would
      CompletableFuture.runAsync(() -> f.complete(null));
    }
    return f;
  }

  /** Completes every held future (the commit happened). */
  void release() {
    hold = false;
    held.forEach(f -> f.complete(null));
    held.clear();
  }

  @Override
  public boolean acceptingMore() {
    return accepting;
  }

  @Override
  public void close() {}
}
