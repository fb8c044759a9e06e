package io.safegrid.alerting;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.escalation.EscalationConfig;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.outbox.Channel;
import io.safegrid.alerting.outbox.OutboxConfig;
import io.safegrid.alerting.outbox.OutboxMessage;
import io.safegrid.alerting.testsupport.TestGrid;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The outbox dispatcher is woken after the alarm event listeners (the live feed) were told, not
 * before them: on the alarm path its wake-up and query competed with the live feed for a core.
 * Notifications still go out without waiting for the outbox's poll (here 30 s).
 */
class OutboxWakeOrderTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T09:00:00Z"));
  private final List<Long> sentAtNanos = new CopyOnWriteArrayList<>();
  private Alerting alerting;

  @BeforeEach
  void setUp() {
    Channel recording = new Channel() {
      @Override
      public String name() {
        return "test";
      }

      @Override
      public void send(OutboxMessage message) {
        sentAtNanos.add(System.nanoTime());
      }
    };
    // polls far apart: only a wake-up delivers within the test
    AlertingConfig cfg = new AlertingConfig(null, new EscalationConfig(null, null, Duration.ofSeconds(30), 50),
        new OutboxConfig(4, Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(30), Duration.ofSeconds(30), 50),
        null, List.of());
    alerting = Alerting.create(db.dataSource(), TestGrid.directory(), clock, cfg, new SimpleMeterRegistry(),
        List.of(recording), recipient -> List.of("test"));
  }

  @AfterEach
  void tearDown() {
    alerting.close();
  }

  @Test
  void notificationsGoOutAfterTheListenersWereToldOfTheRaise() throws Exception {
    AtomicLong listenerDoneAt = new AtomicLong();
    List<AlarmEvent> seen = new CopyOnWriteArrayList<>();
    // registered after Alerting.create, as the dashboard's live feed is
    alerting.alarms().addListener(e -> {
      seen.add(e);
      try {
        Thread.sleep(400); // a slow live feed: an outbox woken before it would deliver meanwhile
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
      listenerDoneAt.set(System.nanoTime());
    });
    Thread.sleep(200); // past the outbox's and the escalation's first round at start
    alerting.start();
    Thread.sleep(200);
    Alarm a = alerting.alarms().apply(new AlarmTransition("fire-nmxc-1", "fire-panel-fire", AlarmTransition.Kind.RAISE,
        Severity.CRITICAL, clock.millis(), "fire, zone 10 point 2", Map.of("zone", 10))).orElseThrow();

    await().atMost(Duration.ofSeconds(10)).until(() -> !sentAtNanos.isEmpty());
    assertThat(seen).isNotEmpty().extracting(AlarmEvent::alarmId).containsOnly(a.id());
    assertThat(listenerDoneAt.get()).as("the raise's listener had returned").isNotZero();
    assertThat(sentAtNanos.get(0) - listenerDoneAt.get())
        .as("first notification sent after the listener returned (ns)").isPositive();
  }
}
