package io.safegrid.alerting;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.escalation.EscalationConfig;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.outbox.Channel;
import io.safegrid.alerting.outbox.OutboxConfig;
import io.safegrid.alerting.outbox.OutboxMessage;
import io.safegrid.alerting.testsupport.TestGrid;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The outbox dispatcher is woken (and runs a delivery round, a query) after a transaction that
 * wrote notifications, not after every rule transition: a clear, or a re-open nobody is told of
 * again, leaves it asleep until its poll (here 30 s). Delivery rounds are counted as the
 * connections the {@code safegrid-outbox} thread takes.
 */
class OutboxWakeTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T05:00:00Z"));
  private final List<OutboxMessage> sent = new CopyOnWriteArrayList<>();
  private final AtomicInteger outboxConnections = new AtomicInteger();
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
        sent.add(message);
      }
    };
    AlertingConfig cfg = new AlertingConfig(null, new EscalationConfig(null, null, Duration.ofSeconds(30), 50),
        new OutboxConfig(4, Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(30), Duration.ofSeconds(30), 50),
        null, List.of());
    alerting = Alerting.create(new CountingDataSource(db.dataSource()), TestGrid.directory(), clock, cfg,
        new SimpleMeterRegistry(), List.of(recording), recipient -> List.of("test"));
  }

  @AfterEach
  void tearDown() {
    alerting.close();
  }

  @Test
  void transitionsThatNotifyNobodyLeaveTheOutboxAsleepAndANotificationWakesIt() throws Exception {
    alerting.start();
    Alarm a = raise(Severity.MAJOR); // unit, building, compound, gas company, market supervision
    await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == 5);
    Thread.sleep(300); // the woken round and its follow-up are over
    int rounds = outboxConnections.get();

    for (int i = 0; i < 10; i++) { // cleared, then re-opened before anyone acknowledged: nobody is told again
      alerting.alarms().apply(new AlarmTransition("gas-002", "gas-lel-threshold", AlarmTransition.Kind.CLEAR,
          Severity.MAJOR, clock.millis(), "gas 3.0 %LEL", Map.of("gas_lel", 3.0)));
      assertThat(raise(Severity.MAJOR).id()).isEqualTo(a.id());
    }
    Thread.sleep(500);
    assertThat(outboxConnections.get()).as("delivery rounds after 20 transitions that notified nobody").isEqualTo(rounds);
    assertThat(sent).hasSize(5);

    raise(Severity.CRITICAL); // severity rose to critical: the community and the report-upward recipients
    await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == 8);
    assertThat(outboxConnections.get()).isGreaterThan(rounds);
    assertThat(sent.subList(5, 8)).extracting(OutboxMessage::recipient)
        .containsExactlyInAnyOrder("nanmen-community", "dongnan-duty-leader", "district-emergency-bureau");
  }

  private Alarm raise(Severity s) {
    return alerting.alarms().apply(new AlarmTransition("gas-002", "gas-lel-threshold", AlarmTransition.Kind.RAISE, s,
        clock.millis(), "gas 41.0 %LEL", Map.of("gas_lel", 41.0))).orElseThrow();
  }

  /** Counts the connections the outbox thread takes: one or more per delivery round. */
  private final class CountingDataSource implements DataSource {
    private final DataSource delegate;

    CountingDataSource(DataSource delegate) {
      this.delegate = delegate;
    }

    private void count() {
      if (Thread.currentThread().getName().equals("safegrid-outbox")) {
        outboxConnections.incrementAndGet();
      }
    }

    @Override
    public Connection getConnection() throws SQLException {
      count();
      return delegate.getConnection();
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      count();
      return delegate.getConnection(user, password);
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
      return delegate.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
      delegate.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
      delegate.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
      return delegate.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() {
      return Logger.getLogger("");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
      return delegate.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
      return delegate.isWrapperFor(iface);
    }
  }
}
