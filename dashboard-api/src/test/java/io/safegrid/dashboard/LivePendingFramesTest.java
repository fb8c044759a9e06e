package io.safegrid.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.alerting.unconfirmed.UnconfirmedAlarm;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The frames {@code /api/live} keeps for clients that connect later, annunciations (docs/alerting.md
 * "Annunciation before the ledger") and unconfirmed hazards (docs/alerting.md "Database outage"),
 * are bounded (review8 R8-9): one per (device, rule), the newest wins, at most 256 of each kind.
 * Before, every unsettled unconfirmed frame was kept and offered to a new client at once: with more
 * than its queue (1,024) pending, every page opened during a long outage was dropped as a slow
 * client at once. The real dashboard and ledger on TimescaleDB; the alarm writer's hand-offs are
 * played by calling the live feed as the writer does; the client reads the stream over a socket.
 */
class LivePendingFramesTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static UnconfirmedAlarm hazard(long id, String device, double lel) {
    AlarmTransition t = new AlarmTransition(device, "gas-lel-threshold", AlarmTransition.Kind.RAISE,
        Severity.CRITICAL, System.currentTimeMillis(), "gas " + lel + " %LEL above level 2",
        Map.of("value", lel, "reading_time_ms", 1_796_000_000_000L + id));
    return new UnconfirmedAlarm(id, t, t.timeMillis(), t.timeMillis());
  }

  @Test
  void aPageOpenedDuringALongOutageGetsTheNewest256OfEachKindAndIsNotDropped() throws Exception {
    try (Fixture f = new Fixture(db.dataSource())) { // the shipped client queue: 1,024
      for (int i = 1; i <= 1_500; i++) {
        UnconfirmedAlarm a = hazard(i, "gas-" + i, 60);
        f.server.liveFeed().annunciated(a);
        f.server.liveFeed().unconfirmed(a);
      }
      // a unit flapping: its newer raise replaces its older one
      f.server.liveFeed().unconfirmed(hazard(1_501, "gas-1500", 75));
      f.server.liveFeed().annunciated(hazard(1_501, "gas-1500", 75));

      try (SseTestClient page = SseTestClient.open(f.port(), "/api/live?access_token=" + Fixture.OFFICER, Map.of())) {
        assertThat(page.awaitStatus()).isEqualTo(200);
        page.await(e -> "unconfirmed".equals(e.event()) && e.data().contains("\"gas-1500\""), Duration.ofSeconds(10));
        Thread.sleep(500);
        assertThat(page.events("dropped")).as("not dropped as a slow client on connect").isEmpty();
        assertThat(page.ended()).isFalse();
        List<SseTestClient.Event> unconfirmed = page.events("unconfirmed");
        List<SseTestClient.Event> annunciations = page.events("annunciation");
        assertThat(unconfirmed).hasSize(256);
        assertThat(annunciations).hasSize(256);
        assertThat(unconfirmed.get(0).data()).as("the oldest kept").contains("\"deviceId\":\"gas-1245\"");
        assertThat(unconfirmed.get(255).data()).as("the newest of the flapping unit, once")
            .contains("\"unconfirmedId\":1501").contains("75.0");
        assertThat(annunciations.get(255).data()).contains("\"annunciationId\":1501").contains("75.0");
        assertThat(annunciations).as("no id: Last-Event-ID stays the ledger's").allMatch(e -> e.id() == null);
      }

      // a settle of the older one of a key leaves the newer kept; its own settle removes it
      f.server.liveFeed().annunciationSettled(hazard(1_500, "gas-1500", 60), true);
      assertThat(f.server.liveFeed().annunciationCount()).isEqualTo(256);
      f.server.liveFeed().annunciationSettled(hazard(1_501, "gas-1500", 75), false);
      f.server.liveFeed().settled(hazard(1_501, "gas-1500", 75), false);
      assertThat(f.server.liveFeed().annunciationCount()).isEqualTo(255);
      assertThat(f.server.liveFeed().unconfirmedCount()).isEqualTo(255);

      String metrics = f.get("/metrics", null).body();
      assertThat(metrics).contains("safegrid_live_pending_dropped_total{kind=\"unconfirmed\"} 1244")
          .contains("safegrid_live_pending_dropped_total{kind=\"annunciation\"} 1244")
          .contains("safegrid_alarms_annunciated_total{severity=\"critical\"} 1501");
    }
  }

  @Test
  void aSettledAnnunciationIsToldAndNotSentToALaterClient() throws Exception {
    try (Fixture f = new Fixture(db.dataSource())) {
      try (SseTestClient open = SseTestClient.open(f.port(), "/api/live?access_token=" + Fixture.OFFICER, Map.of())) {
        assertThat(open.awaitStatus()).isEqualTo(200);
        UnconfirmedAlarm a = hazard(7, "gas-002", 60);
        f.server.liveFeed().annunciated(a);
        SseTestClient.Event frame = open.await(e -> "annunciation".equals(e.event()), Duration.ofSeconds(10));
        assertThat(frame.data()).startsWith("{\"annunciationId\":7,\"deviceId\":\"gas-002\",\"ruleId\":\"gas-lel-threshold\","
            + "\"kind\":\"raise\",\"severity\":\"critical\",\"message\":\"gas 60.0 %LEL above level 2\",\"evidence\":{")
            .contains("\"reading_time_ms\":1796000000007").contains("\"eventTime\":\"").contains("\"decidedAt\":\"");
        f.server.liveFeed().annunciationSettled(a, false);
        SseTestClient.Event settle = open.await(e -> "annunciation".equals(e.event()) && e.data().contains("status"),
            Duration.ofSeconds(10));
        assertThat(settle.data()).isEqualTo(
            "{\"annunciationId\":7,\"status\":\"given_up\",\"deviceId\":\"gas-002\",\"ruleId\":\"gas-lel-threshold\"}");
      }
      try (SseTestClient later = SseTestClient.open(f.port(), "/api/live?access_token=" + Fixture.OFFICER, Map.of())) {
        assertThat(later.awaitStatus()).isEqualTo(200);
        Thread.sleep(500);
        assertThat(later.events("annunciation")).isEmpty();
      }
    }
  }
}
