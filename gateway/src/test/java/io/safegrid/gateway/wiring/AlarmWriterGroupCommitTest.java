package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.alerting.ledger.JdbcAlarmLedger;
import io.safegrid.alerting.ledger.LedgerConfig;
import io.safegrid.alerting.ledger.TransitionOutcome;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The alarm writer's group commit against the real ledger on TimescaleDB. Faults are real database
 * errors: a trigger on {@code alarms} refuses the devices listed in table {@code test_fault}.
 */
class AlarmWriterGroupCommitTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  /** The real ledger, with a gate that holds the writer's first group until released. */
  static final class GatedLedger implements AlarmService {
    final JdbcAlarmLedger real;
    final List<List<AlarmTransition>> groups = new CopyOnWriteArrayList<>();
    final CountDownLatch firstTaken = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    GatedLedger(JdbcAlarmLedger real) {
      this.real = real;
    }

    @Override
    public List<TransitionOutcome> applyAll(List<AlarmTransition> ts, long decidedAtNanos) {
      groups.add(List.copyOf(ts));
      firstTaken.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return real.applyAll(ts, decidedAtNanos);
    }

    @Override public Optional<Alarm> apply(AlarmTransition t) { return real.apply(t); }
    @Override public Alarm acknowledge(long id, String actor, String note) { return real.acknowledge(id, actor, note); }
    @Override public Alarm close(long id, String actor, String note) { return real.close(id, actor, note); }
    @Override public Optional<Alarm> find(long id) { return real.find(id); }
    @Override public List<AlarmEvent> history(long id) { return real.history(id); }
    @Override public List<Alarm> list(Set<AlarmState> s, int limit, int offset) { return real.list(s, limit, offset); }
    @Override public List<AlarmEvent> eventsAfter(long after, int limit) { return real.eventsAfter(after, limit); }
    @Override public void addListener(Consumer<AlarmEvent> l) { real.addListener(l); }
  }

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private JdbcAlarmLedger real;
  private GatedLedger ledger;
  private AlarmWriter writer;
  private static int run;
  private String p;

  @BeforeAll
  static void faultTrigger() throws SQLException {
    sql("CREATE TABLE test_fault (device_id text PRIMARY KEY)");
    sql("CREATE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        + " IF EXISTS (SELECT 1 FROM test_fault WHERE device_id = NEW.device_id) THEN"
        + " RAISE EXCEPTION 'test fault for %', NEW.device_id; END IF; RETURN NEW; END $$");
    sql("CREATE TRIGGER test_fault BEFORE INSERT OR UPDATE ON alarms FOR EACH ROW EXECUTE FUNCTION test_fault()");
  }

  @BeforeEach
  void setUp() {
    real = new JdbcAlarmLedger(db.dataSource(), InstantSource.system(), LedgerConfig.defaults(), registry);
    real.start();
    ledger = new GatedLedger(real);
    writer = new AlarmWriter(ledger, registry, Duration.ofMillis(50));
    p = "w" + (++run) + "-";
  }

  @AfterEach
  void tearDown() {
    ledger.release.countDown();
    writer.close();
    real.close();
  }

  private AlarmTransition t(String device, String rule, Kind kind, Severity s, String msg) {
    return new AlarmTransition(p + device, rule, kind, s, System.currentTimeMillis(), msg, Map.of());
  }

  private AlarmTransition gas(String device, Kind kind) {
    return t(device, "gas-lel-threshold", kind, Severity.MAJOR, "gas " + kind);
  }

  @Test
  void oneFailingTransitionAmongFiftyLosesNoneAndIsRetriedInItsOrder() throws Exception {
    sql("INSERT INTO test_fault VALUES ('" + p + "gas-17')");
    writer.accept(gas("gas-first", Kind.RAISE)); // held by the gate while the rest queues
    assertThat(ledger.firstTaken.await(10, TimeUnit.SECONDS)).isTrue();
    for (int i = 0; i < 50; i++) {
      writer.accept(gas("gas-" + i, Kind.RAISE));
    }
    writer.accept(gas("gas-17", Kind.CLEAR)); // must not overtake the held raise
    ledger.release.countDown();

    // the other 49 are committed in one group; gas-17 waits for a retry
    await().atMost(Duration.ofSeconds(30)).until(() -> count("state = 'active_unacked'") == 50);
    assertThat(ledger.groups.get(1)).hasSize(51);
    assertThat(count("device_id = '" + p + "gas-17'")).isZero();
    await().atMost(Duration.ofSeconds(10))
        .until(() -> registry.get("safegrid.alarms.writer.retried").counter().count() >= 1);

    sql("DELETE FROM test_fault");
    await().atMost(Duration.ofSeconds(30)).until(() -> count("device_id = '" + p + "gas-17'") == 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> count("device_id = '" + p + "gas-17' AND state = 'cleared_unacked'") == 1);
    long id = real.list(Set.of(AlarmState.CLEARED_UNACKED), 1000, 0).stream()
        .filter(a -> a.deviceId().equals(p + "gas-17")).findFirst().orElseThrow().id();
    assertThat(real.history(id)).extracting(AlarmEvent::type).containsExactly("raised", "cleared");
    assertThat(registry.get("safegrid.alarms.writer.failed").counter().count()).isZero();
    assertThat(registry.get("safegrid.alarms.writer.applied").counter().count()).isEqualTo(52.0);
  }

  @Test
  void aTransitionRefusedEveryTimeIsCountedAfterFiveAttemptsAndTheOthersGoOn() throws Exception {
    sql("INSERT INTO test_fault VALUES ('" + p + "gas-bad')");
    ledger.release.countDown();
    writer.accept(gas("gas-bad", Kind.RAISE));
    writer.accept(gas("gas-good", Kind.RAISE));
    await().atMost(Duration.ofSeconds(30))
        .until(() -> registry.get("safegrid.alarms.writer.failed").counter().count() == 1.0);
    assertThat(count("device_id = '" + p + "gas-good'")).isEqualTo(1);
    assertThat(count("device_id = '" + p + "gas-bad'")).isZero();
    assertThat(registry.get("safegrid.alarms.writer.retried").counter().count()).isEqualTo(4.0);
    sql("DELETE FROM test_fault");
  }

  @Test
  void aGasRaiseBehindFiveThousandQueuedOfflineRaisesIsInTheNextGroup() throws Exception {
    writer.accept(t("off-0", "device-offline", Kind.RAISE, Severity.MINOR, "offline"));
    assertThat(ledger.firstTaken.await(10, TimeUnit.SECONDS)).isTrue();
    for (int i = 1; i <= 5_000; i++) {
      writer.accept(t("off-" + i, "device-offline", Kind.RAISE, Severity.MINOR, "offline"));
    }
    writer.accept(gas("gas-leak", Kind.RAISE));
    ledger.release.countDown();

    await().atMost(Duration.ofSeconds(30)).until(() -> count("device_id = '" + p + "gas-leak'") == 1);
    // the group after the one being written when it arrived, alone in its lane
    assertThat(ledger.groups.get(1)).extracting(AlarmTransition::deviceId).containsExactly(p + "gas-leak");
    // maintenance groups are small, so the storm drains in many short transactions
    assertThat(ledger.groups.stream().mapToInt(List::size).max().orElseThrow())
        .isLessThanOrEqualTo(AlarmWriter.MAX_MAINTENANCE_GROUP);
    await().atMost(Duration.ofSeconds(120)).until(() -> count("rule_id = 'device-offline'") == 5_001);
    assertThat(registry.get("safegrid.alarms.writer.applied").counter().count()).isEqualTo(5_002.0);
  }

  private int count(String where) throws SQLException {
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(
            "SELECT count(*) FROM alarms WHERE device_id LIKE '" + p + "%' AND " + where)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static void sql(String s) throws SQLException {
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute(s);
    }
  }
}
