package io.safegrid.alerting.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.MutableClock;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Rule transitions commit asynchronously, so a PostgreSQL crash can lose a sequence's advance
 * after the ids it gave were shown (docs/alerting.md "Durability of rule transitions"). The
 * sequences are rewound here with {@code setval}, as such a crash would (review F1, F4): the ledger
 * must neither fail raises on ids already used nor hand out event ids a listener has seen.
 */
class LedgerSequenceRewindTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static AlarmTransition raise(String device, MutableClock clock) {
    return new AlarmTransition(device, "gas-lel-threshold", Kind.RAISE, Severity.MAJOR, clock.millis(), "leak", Map.of());
  }

  private static void sql(String... statements) throws Exception {
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
      for (String s : statements) {
        st.execute(s);
      }
    }
  }

  @Test
  void raisesAfterTheAlarmSequenceWentBackGetFreshIdsAndNoneFails() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-11-29T08:00:00Z"));
    try (JdbcAlarmLedger ledger =
        new JdbcAlarmLedger(db.dataSource(), clock, LedgerConfig.defaults(), new SimpleMeterRegistry())) {
      ledger.start();
      long maxBefore = 0;
      for (int i = 0; i < 11; i++) {
        maxBefore = Math.max(maxBefore, ledger.apply(raise("rw-a-" + i, clock)).orElseThrow().id());
      }
      sql("SELECT setval('alarms_id_seq', 1)");
      List<Long> ids = new ArrayList<>();
      for (int i = 11; i < 51; i++) {
        ids.add(ledger.apply(raise("rw-a-" + i, clock)).orElseThrow().id()); // throws if a raise fails
      }
      long floor = maxBefore;
      assertThat(ids).allSatisfy(id -> assertThat(id).isGreaterThan(floor)).doesNotHaveDuplicates();
    }
  }

  @Test
  void eventsAfterTheEventSequenceWentBackReachListenersWithIdsNeverSeenBefore() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-11-29T08:00:00Z"));
    try (JdbcAlarmLedger ledger =
        new JdbcAlarmLedger(db.dataSource(), clock, LedgerConfig.defaults(), new SimpleMeterRegistry())) {
      List<Long> told = new CopyOnWriteArrayList<>();
      ledger.addListener(e -> told.add(e.id()));
      ledger.start();
      for (int i = 0; i < 5; i++) {
        ledger.apply(raise("rw-e-" + i, clock));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> told.size() >= 5);
      long maxTold = told.stream().mapToLong(Long::longValue).max().orElseThrow();
      // a crash that lost the last 3 events and the sequence's advance
      sql("DELETE FROM alarm_events WHERE id > " + (maxTold - 3),
          "SELECT setval('alarm_events_id_seq', " + (maxTold - 3) + ")");
      int before = told.size();
      for (int i = 10; i < 15; i++) {
        ledger.apply(raise("rw-e-" + i, clock));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> told.size() >= before + 5);
      assertThat(told.subList(before, told.size()))
          .hasSize(5)
          .allSatisfy(id -> assertThat(id).isGreaterThan(maxTold))
          .isSorted();
    }
  }
}
