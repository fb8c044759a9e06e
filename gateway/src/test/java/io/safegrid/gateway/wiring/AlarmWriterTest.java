package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class AlarmWriterTest {

  /** A ledger that takes 2 ms a transition, as a commit does, and records the order. */
  static class SlowLedger implements AlarmService {
    final List<AlarmTransition> applied = new CopyOnWriteArrayList<>();
    final CountDownLatch firstTaken = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public Optional<Alarm> apply(AlarmTransition t) {
      firstTaken.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      applied.add(t);
      return Optional.empty();
    }

    @Override public Alarm acknowledge(long alarmId, String actor, String note) { throw new UnsupportedOperationException(); }
    @Override public Alarm close(long alarmId, String actor, String note) { throw new UnsupportedOperationException(); }
    @Override public Optional<Alarm> find(long alarmId) { return Optional.empty(); }
    @Override public List<AlarmEvent> history(long alarmId) { return List.of(); }
    @Override public List<Alarm> list(Set<AlarmState> states, int limit, int offset) { return List.of(); }
    @Override public List<AlarmEvent> eventsAfter(long afterEventId, int limit) { return List.of(); }
    @Override public void addListener(Consumer<AlarmEvent> listener) {}
  }

  private static AlarmTransition t(String device, String rule, Kind kind, Severity s, long time) {
    return new AlarmTransition(device, rule, kind, s, time, rule + " " + kind, Map.of());
  }

  @Test
  void aGasAlarmOvertakesABurstOfOfflineAlarmsButEachAlarmKeepsItsOrder() throws Exception {
    SlowLedger ledger = new SlowLedger();
    AlarmWriter writer = new AlarmWriter(ledger, new SimpleMeterRegistry());
    // the writer is busy with a first offline alarm while the burst arrives
    writer.accept(t("gas-000", "device-offline", Kind.RAISE, Severity.MINOR, 1));
    assertThat(ledger.firstTaken.await(5, TimeUnit.SECONDS)).isTrue();
    for (int i = 1; i <= 500; i++) {
      writer.accept(t(String.format("gas-%03d", i), "device-offline", Kind.RAISE, Severity.MINOR, 1));
    }
    writer.accept(t("gas-001", "device-offline", Kind.CLEAR, Severity.MINOR, 2));
    writer.accept(t("gas-022", "gas-lel-threshold", Kind.RAISE, Severity.MAJOR, 3));
    writer.accept(t("gas-022", "gas-lel-threshold", Kind.SEVERITY_CHANGE, Severity.CRITICAL, 4));
    ledger.release.countDown();
    writer.drain(Duration.ofSeconds(30));

    List<AlarmTransition> applied = ledger.applied;
    assertThat(applied).hasSize(504);
    // the first offline alarm was already being written; the gas alarm comes right after it
    assertThat(applied.get(1).ruleId()).isEqualTo("gas-lel-threshold");
    assertThat(applied.get(1).kind()).isEqualTo(Kind.RAISE);
    assertThat(applied.get(2).kind()).isEqualTo(Kind.SEVERITY_CHANGE);
    // and one device's offline raise still precedes its clear
    int raise = -1;
    int clear = -1;
    for (int i = 0; i < applied.size(); i++) {
      AlarmTransition a = applied.get(i);
      if (a.deviceId().equals("gas-001") && a.ruleId().equals("device-offline")) {
        if (a.kind() == Kind.RAISE) {
          raise = i;
        } else {
          clear = i;
        }
      }
    }
    assertThat(raise).isNotNegative().isLessThan(clear);
  }

  @Test
  void theDecisionAgeIsTimedForHazardTransitionsOnly() throws Exception {
    SlowLedger ledger = new SlowLedger();
    ledger.release.countDown();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AlarmWriter writer = new AlarmWriter(ledger, registry);
    long now = System.currentTimeMillis();
    writer.accept(t("gas-001", "gas-lel-threshold", Kind.RAISE, Severity.MAJOR, now - 5));
    writer.accept(t("gas-002", "device-offline", Kind.RAISE, Severity.MINOR, now - 5));
    writer.accept(t("gas-003", "gas-lel-threshold", Kind.RAISE, Severity.MAJOR, now - 120_000)); // a backlog
    writer.drain(Duration.ofSeconds(10));
    io.micrometer.core.instrument.Timer age = registry.get("safegrid.alarms.decided.age").timer();
    assertThat(age.count()).isEqualTo(1);
    assertThat(age.totalTime(TimeUnit.MILLISECONDS)).isBetween(5.0, 5_000.0);
    assertThat(ledger.applied).hasSize(3);
  }

  /** Unreachable for {@code outage}, then applies; or refuses one device for good. */
  static final class OutageLedger extends SlowLedger {
    final long upAtNanos;
    final AtomicInteger attempts = new AtomicInteger();

    OutageLedger(Duration outage) {
      this.upAtNanos = System.nanoTime() + outage.toNanos();
      release.countDown();
    }

    @Override
    public Optional<Alarm> apply(AlarmTransition t) {
      attempts.incrementAndGet();
      if (t.deviceId().equals("gas-refused")) {
        throw new io.safegrid.alerting.ledger.AlarmStoreException("ledger transaction failed: check violation",
            new java.sql.SQLException("new row violates check constraint", "23514"));
      }
      if (System.nanoTime() - upAtNanos < 0) {
        throw new io.safegrid.alerting.ledger.AlarmStoreException("ledger database unreachable: timeout",
            new java.sql.SQLTransientConnectionException("safegrid - Connection is not available", "08001"));
      }
      return super.apply(t);
    }
  }

  @Test
  void aRaiseDecidedDuringADatabaseOutageIsAppliedWhenItEndsHoweverManyAttemptsItTook() throws Exception {
    // 50 ms first back-off: five attempts are over in about 1.5 s, the outage lasts 3 s (review F7)
    OutageLedger ledger = new OutageLedger(Duration.ofSeconds(3));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AlarmWriter writer = new AlarmWriter(ledger, registry, Duration.ofMillis(50));
    try {
      writer.accept(t("gas-001", "gas-lel-threshold", Kind.RAISE, Severity.MAJOR, 1));
      writer.accept(t("gas-001", "gas-lel-threshold", Kind.CLEAR, Severity.MAJOR, 2));
      writer.accept(t("gas-refused", "gas-lel-threshold", Kind.RAISE, Severity.MAJOR, 3));
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied.size() == 2);
      assertThat(ledger.applied).extracting(AlarmTransition::kind).containsExactly(Kind.RAISE, Kind.CLEAR);
      assertThat(ledger.attempts.get()).isGreaterThan(AlarmWriter.ATTEMPTS);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
          .until(() -> registry.get("safegrid.alarms.writer.failed").counter().count() == 1.0);
    } finally {
      writer.drain(Duration.ofSeconds(1));
    }
  }

  @Test
  void onlyFailuresToReachTheDatabaseCountAsTransient() {
    assertThat(AlarmWriter.transientFailure(new RuntimeException("x",
        new java.sql.SQLTransientConnectionException("pool timeout")))).isTrue();
    assertThat(AlarmWriter.transientFailure(new java.sql.SQLException("terminating connection", "57P01"))).isTrue();
    assertThat(AlarmWriter.transientFailure(new java.sql.SQLException("connection refused", "08001"))).isTrue();
    assertThat(AlarmWriter.transientFailure(new java.sql.SQLException("test fault", "P0001"))).isFalse();
    assertThat(AlarmWriter.transientFailure(new java.sql.SQLException("duplicate", "23505"))).isFalse();
    assertThat(AlarmWriter.transientFailure(new IllegalStateException("bug"))).isFalse();
  }

  /** Unreachable for one device's transitions while {@code down} is set; applies the rest. */
  static final class OneKeyDownLedger extends SlowLedger {
    final java.util.concurrent.atomic.AtomicBoolean down = new java.util.concurrent.atomic.AtomicBoolean(true);
    final AtomicInteger attempts = new AtomicInteger();

    OneKeyDownLedger() {
      release.countDown();
    }

    @Override
    public Optional<Alarm> apply(AlarmTransition t) {
      if (t.deviceId().equals("gas-down")) {
        attempts.incrementAndGet();
        if (down.get()) {
          throw new io.safegrid.alerting.ledger.AlarmStoreException("ledger database unreachable: timeout",
              new java.sql.SQLTransientConnectionException("safegrid - Connection is not available", "08001"));
        }
      }
      return super.apply(t);
    }
  }

  /**
   * review7 R11: a transition accepted before {@code awaitSettled} that waits for a retry is not
   * stood in for by one accepted after the call and applied meanwhile (the rule clock's offline
   * raise during the start): the wait ends only once the earlier one is in the ledger.
   */
  @Test
  void awaitSettledWaitsForEveryTransitionAcceptedBeforeItNotForAsManyOthers() throws Exception {
    OneKeyDownLedger ledger = new OneKeyDownLedger();
    AlarmWriter writer = new AlarmWriter(ledger, new SimpleMeterRegistry(), Duration.ofMillis(50));
    try {
      writer.accept(t("gas-down", "gas-lel-threshold", Kind.RAISE, Severity.CRITICAL, 1));
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> ledger.attempts.get() >= 1);
      java.util.concurrent.CompletableFuture<Boolean> settled = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return writer.awaitSettled(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      });
      Thread.sleep(200); // the wait has taken its target
      writer.accept(t("gas-002", "device-offline", Kind.RAISE, Severity.MINOR, 2));
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
          .until(() -> ledger.applied.stream().anyMatch(a -> a.deviceId().equals("gas-002")));
      assertThat(settled.get(10, TimeUnit.SECONDS)).as("the gas raise still waits for the ledger").isFalse();
      assertThat(ledger.applied).extracting(AlarmTransition::deviceId).containsExactly("gas-002");

      ledger.down.set(false);
      assertThat(writer.awaitSettled(Duration.ofSeconds(10))).isTrue();
      assertThat(ledger.applied).extracting(AlarmTransition::deviceId).containsExactly("gas-002", "gas-down");
    } finally {
      writer.drain(Duration.ofSeconds(1));
    }
  }
}
