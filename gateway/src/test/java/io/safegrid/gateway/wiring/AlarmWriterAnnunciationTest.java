package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.unconfirmed.AnnunciationListener;
import io.safegrid.alerting.unconfirmed.UnconfirmedAlarm;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The alarm writer's annunciation (docs/alerting.md "Annunciation before the ledger"): which
 * transitions are annunciated, that it happens in {@code accept} on the caller's thread before the
 * ledger has seen anything, and that each settles once, with the id a later unconfirmed hand-off
 * carries. The ledger is a stand-in that holds every transition until released (the end-to-end
 * case on the real database is {@code AnnunciationBeforeTheLedgerTest}).
 */
class AlarmWriterAnnunciationTest {

  /** What the writer told, as "annunciated|committed|given_up device rule id thread" lines. */
  static final class Told implements AnnunciationListener {
    final List<String> lines = new CopyOnWriteArrayList<>();

    @Override
    public void annunciated(UnconfirmedAlarm a) {
      lines.add("annunciated " + a.transition().deviceId() + " " + a.transition().ruleId() + " " + a.id()
          + " " + Thread.currentThread().getName());
    }

    @Override
    public void annunciationSettled(UnconfirmedAlarm a, boolean committed) {
      lines.add((committed ? "committed " : "given_up ") + a.transition().deviceId() + " " + a.transition().ruleId()
          + " " + a.id());
    }
  }

  private static AlarmTransition t(String device, String rule, Kind kind) {
    return new AlarmTransition(device, rule, kind, Severity.CRITICAL, System.currentTimeMillis(), rule, Map.of());
  }

  @Test
  void hazardRaisesAndSeverityChangesAreAnnunciatedInAcceptBeforeTheLedger_clearsAndMaintenanceAlarmsNot()
      throws Exception {
    AlarmWriterTest.SlowLedger ledger = new AlarmWriterTest.SlowLedger(); // holds every transition until released
    Told told = new Told();
    AlarmWriter writer = new AlarmWriter(ledger, new SimpleMeterRegistry(), Duration.ofMillis(50), null,
        AlarmWriter.UNCONFIRMED_HOLD, told);
    String me = Thread.currentThread().getName();
    try {
      writer.accept(t("gas-010", "gas-lel-threshold", Kind.RAISE));
      assertThat(told.lines).as("told in accept, on the caller's thread, before the ledger took it")
          .containsExactly("annunciated gas-010 gas-lel-threshold 1 " + me);
      writer.accept(t("gas-010", "gas-lel-threshold", Kind.SEVERITY_CHANGE));
      writer.accept(t("fire-1", "fire-panel-fire", Kind.RAISE));
      writer.accept(t("gas-011", "device-offline", Kind.RAISE)); // maintenance lane
      writer.accept(t("gas-012", "gas-fault", Kind.RAISE)); // maintenance alarm in the hazard lane
      writer.accept(t("gas-010", "gas-lel-threshold", Kind.CLEAR));
      assertThat(told.lines).containsExactly(
          "annunciated gas-010 gas-lel-threshold 1 " + me,
          "annunciated gas-010 gas-lel-threshold 2 " + me,
          "annunciated fire-1 fire-panel-fire 3 " + me);
      assertThat(ledger.applied).as("the ledger has taken nothing yet").isEmpty();

      ledger.release.countDown();
      await().atMost(Duration.ofSeconds(10)).until(() -> ledger.applied.size() == 6);
      await().atMost(Duration.ofSeconds(5)).until(() -> told.lines.size() == 6);
      assertThat(told.lines.subList(3, 6)).containsExactlyInAnyOrder(
          "committed gas-010 gas-lel-threshold 1", "committed gas-010 gas-lel-threshold 2",
          "committed fire-1 fire-panel-fire 3");
    } finally {
      writer.close();
    }
  }
}
