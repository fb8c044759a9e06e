package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmStoreException;
import io.safegrid.alerting.unconfirmed.UnconfirmedAlarm;
import io.safegrid.alerting.unconfirmed.UnconfirmedListener;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The alarm writer's hand-off of hazards the ledger cannot take in time (newcomer7 F4 b): which
 * transitions are handed over, when, once, and that they settle. The ledger is a stand-in that
 * fails as {@code JdbcAlarmLedger} does while its database is unreachable (the end-to-end case on
 * the real database is {@code UnconfirmedHazardDuringOutageTest}).
 */
class AlarmWriterUnconfirmedTest {

  /** Unreachable while {@code down}; else takes every transition. */
  static final class OutageLedger extends AlarmWriterTest.SlowLedger {
    volatile boolean down = true;

    OutageLedger() {
      release.countDown();
    }

    @Override
    public Optional<Alarm> apply(AlarmTransition t) {
      if (down) {
        throw new AlarmStoreException("ledger database unreachable",
            new SQLTransientConnectionException("Connection is not available, request timed out after 5000ms"));
      }
      return super.apply(t);
    }
  }

  /** What the writer told, as "unconfirmed device rule" / "committed device rule" lines. */
  static final class Told implements UnconfirmedListener {
    final List<String> lines = new CopyOnWriteArrayList<>();

    @Override
    public void unconfirmed(UnconfirmedAlarm a) {
      lines.add("unconfirmed " + a.transition().deviceId() + " " + a.transition().ruleId());
    }

    @Override
    public void settled(UnconfirmedAlarm a, boolean committed) {
      lines.add((committed ? "committed " : "given_up ") + a.transition().deviceId() + " " + a.transition().ruleId());
    }
  }

  private static AlarmTransition t(String device, String rule, Kind kind) {
    return new AlarmTransition(device, rule, kind, Severity.CRITICAL, System.currentTimeMillis(), rule, Map.of());
  }

  @Test
  void aHazardRaiseWaitingForAnUnreachableLedgerIsHandedOverOnceAndSettlesWhenCommitted() {
    OutageLedger ledger = new OutageLedger();
    Told told = new Told();
    AlarmWriter writer = new AlarmWriter(ledger, new SimpleMeterRegistry(), Duration.ofMillis(50), told,
        Duration.ofMillis(500));
    try {
      writer.accept(t("gas-010", "gas-lel-threshold", Kind.RAISE));
      writer.accept(t("fire-1", "fire-panel-fire", Kind.RAISE));
      writer.accept(t("gas-011", "device-offline", Kind.RAISE)); // maintenance: never handed over
      writer.accept(t("gas-012", "gas-fault", Kind.RAISE)); // maintenance, in the hazard lane
      writer.accept(t("gas-013", "gas-lel-threshold", Kind.CLEAR)); // a clear: nothing to alert

      await().atMost(Duration.ofSeconds(5)).until(() -> told.lines.size() >= 2);
      await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(3))
          .until(() -> told.lines.size() == 2); // once each, however many retries
      assertThat(told.lines).containsExactlyInAnyOrder(
          "unconfirmed gas-010 gas-lel-threshold", "unconfirmed fire-1 fire-panel-fire");

      ledger.down = false;
      await().atMost(Duration.ofSeconds(15)).until(() -> told.lines.size() == 4);
      assertThat(told.lines.subList(2, 4)).containsExactlyInAnyOrder(
          "committed gas-010 gas-lel-threshold", "committed fire-1 fire-panel-fire");
      await().atMost(Duration.ofSeconds(15)).until(() -> ledger.applied.size() == 5);
    } finally {
      writer.close();
    }
  }

  @Test
  void aLedgerThatAnswersInTimeNeverHandsAnythingOver() throws Exception {
    OutageLedger ledger = new OutageLedger();
    ledger.down = false;
    Told told = new Told();
    AlarmWriter writer = new AlarmWriter(ledger, new SimpleMeterRegistry(), Duration.ofMillis(50), told,
        Duration.ofMillis(500));
    try {
      for (int i = 0; i < 50; i++) {
        writer.accept(t("gas-0" + (10 + i), "gas-lel-threshold", Kind.RAISE));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> ledger.applied.size() == 50);
      Thread.sleep(1_000); // longer than the hold time
      assertThat(told.lines).isEmpty();
    } finally {
      writer.close();
    }
  }
}
