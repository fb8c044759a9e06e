package io.safegrid.alerting.escalation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.Alerting;
import io.safegrid.alerting.AlertingConfig;
import io.safegrid.alerting.MutableClock;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.Json;
import io.safegrid.alerting.outbox.OutboxConfig;
import io.safegrid.alerting.routing.RecipientGroup;
import io.safegrid.alerting.testsupport.TestGrid;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every outbox row escalation writes carries the payload of the contract (docs/alerting.md,
 * /work/shared/contract.md: {@code idempotencyKey}, the alarm's fields, {@code level}, {@code
 * reason}, {@code step}, {@code raisedAt}, {@code at}, {@code recipient}, {@code recipientName},
 * {@code channel}), for raises, a severity rise, escalation steps, a re-notification at the top
 * and a re-opening after an acknowledgement, on two channels, with a message that needs escaping.
 * The expected payloads are built here the way escalation built them before its notifications
 * were written without Jackson (one map per row, written by the ledger's mapper).
 */
class NotificationPayloadTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final String RULE = "gas-lel-threshold";
  private static final String PLACE = "Dongnan / Nanmen community / Nanmen New City / building 3 / unit 2";
  /** Quotes, a backslash, a tab, a control character, non-ASCII and a line separator. */
  private static final String MESSAGE = "gas 55.0 %LEL \"above\" level 2 \\ 50 %LEL\t燃气泄漏\u0001\u2028 end";

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T04:00:00.123456789Z"));
  private Alerting alerting;
  private long lastRow;
  private final List<String> matched = new ArrayList<>();

  @BeforeEach
  void setUp() {
    AlertingConfig cfg = new AlertingConfig(null,
        new EscalationConfig(null, null, Duration.ofMillis(50), 50),
        new OutboxConfig(5, Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(30), Duration.ofMillis(50), 50),
        null, List.of());
    // no channel delivers (not started): the rows stay in the outbox to be read
    alerting = Alerting.create(db.dataSource(), TestGrid.directory(), clock, cfg, new SimpleMeterRegistry(),
        List.of(), recipient -> List.of("mqtt", "webhook:ops"));
  }

  @AfterEach
  void tearDown() throws Exception {
    alerting.close();
    try (Connection c = db.connect(); var st = c.createStatement()) {
      st.execute("UPDATE alarms SET next_escalation_at = NULL");
    }
  }

  @Test
  void everyRowOfEveryStepCarriesTheContractsPayload() throws Exception {
    lastRow = maxRow();
    Alarm critical = raise("gas-003", Severity.CRITICAL, MESSAGE);
    assertRows(critical, 1, List.of(
        new Told(TestGrid.UNIT, "alarm"), new Told(TestGrid.BUILDING, "alarm"), new Told(TestGrid.COMPOUND, "alarm"),
        new Told(TestGrid.COMMUNITY, "alarm"), new Told(TestGrid.GAS_CO, "responder"),
        new Told(TestGrid.MARKET, "responder"), new Told(TestGrid.LEADER, "report_upward"),
        new Told(TestGrid.BUREAU, "report_upward")));
    assertNoOtherRows();

    clock.advance(Duration.ofMillis(1_500).plusNanos(1_000)); // .6 s + 1 us: six fraction digits
    Alarm major = raise("gas-004", Severity.MAJOR, "gas 41.0 %LEL");
    assertRows(major, 1, List.of(new Told(TestGrid.UNIT, "alarm"), new Told(TestGrid.BUILDING, "alarm"),
        new Told(TestGrid.COMPOUND, "alarm"), new Told(TestGrid.GAS_CO, "responder"),
        new Told(TestGrid.MARKET, "responder")));
    assertNoOtherRows();

    clock.set(Instant.parse("2026-11-30T04:00:05Z")); // whole seconds: no fraction
    Alarm rose = alerting.alarms().apply(new AlarmTransition("gas-004", RULE, AlarmTransition.Kind.SEVERITY_CHANGE,
        Severity.CRITICAL, clock.millis(), "gas 62.5 %LEL", Map.of("gas_lel", 62.5))).orElseThrow();
    assertRows(rose, 2, List.of(new Told(TestGrid.COMMUNITY, "alarm"), new Told(TestGrid.LEADER, "report_upward"),
        new Told(TestGrid.BUREAU, "report_upward")));
    assertNoOtherRows();

    clock.set(Instant.parse("2026-11-30T04:01:10.5Z")); // both critical deadlines (1 min) have passed
    assertThat(alerting.escalator().runDue()).isEqualTo(2);
    assertRows(alerting.alarms().find(critical.id()).orElseThrow(), 2, List.of(new Told(TestGrid.DUTY, "escalation")));
    assertRows(alerting.alarms().find(rose.id()).orElseThrow(), 3, List.of(new Told(TestGrid.DUTY, "escalation")));
    assertNoOtherRows();

    clock.set(Instant.parse("2026-11-30T04:03:00Z"));
    assertThat(alerting.escalator().runDue()).isEqualTo(2);
    assertRows(alerting.alarms().find(critical.id()).orElseThrow(), 3, List.of(new Told(TestGrid.DUTY, "renotify")));
    assertRows(alerting.alarms().find(rose.id()).orElseThrow(), 4, List.of(new Told(TestGrid.DUTY, "renotify")));
    assertNoOtherRows();

    clock.advance(Duration.ofNanos(2_345_678)); // 2.345 ms: micros kept, nanos dropped
    alerting.alarms().acknowledge(critical.id(), "officer-li", "on my way");
    alerting.alarms().apply(new AlarmTransition("gas-003", RULE, AlarmTransition.Kind.CLEAR, Severity.CRITICAL,
        clock.millis(), "gas 3.0 %LEL", Map.of("gas_lel", 3.0)));
    assertNoOtherRows(); // an acknowledgement and a clear notify nobody
    Alarm again = raise("gas-003", Severity.CRITICAL, MESSAGE + " again");
    assertThat(again.count()).isEqualTo(2);
    assertRows(again, 4, List.of(
        new Told(TestGrid.UNIT, "alarm"), new Told(TestGrid.BUILDING, "alarm"), new Told(TestGrid.COMPOUND, "alarm"),
        new Told(TestGrid.COMMUNITY, "alarm"), new Told(TestGrid.GAS_CO, "responder"),
        new Told(TestGrid.MARKET, "responder"), new Told(TestGrid.LEADER, "report_upward"),
        new Told(TestGrid.BUREAU, "report_upward")));
    assertNoOtherRows();

    Alarm water = alerting.alarms().apply(new AlarmTransition("gauge-jialing-1", "river-level", AlarmTransition.Kind.RAISE,
        Severity.WARNING, clock.millis(), "river 3.2 m", Map.of("level_m", 3.2))).orElseThrow();
    assertRows(water, 1, List.of(new Told(TestGrid.COMMUNITY, "alarm"), new Told(TestGrid.FLOOD, "responder"),
        new Told(TestGrid.MILITIA, "responder")), "water", "Dongnan / Jialing River bank");
    assertNoOtherRows();
  }

  private record Told(RecipientGroup recipient, String reason) {}

  private Alarm raise(String device, Severity s, String message) {
    return alerting.alarms().apply(new AlarmTransition(device, RULE, AlarmTransition.Kind.RAISE, s,
        clock.millis(), message, Map.of("gas_lel", 55.0))).orElseThrow();
  }

  private void assertRows(Alarm a, int step, List<Told> told) throws Exception {
    assertRows(a, step, told, "gas", PLACE);
  }

  /** The rows written since the last {@link #assertNoOtherRows} include {@code told} x the two channels, with these payloads. */
  private void assertRows(Alarm a, int step, List<Told> told, String kind, String place) throws Exception {
    List<Row> rows = rowsSince(lastRow);
    List<String> expectedKeys = new ArrayList<>();
    for (Told t : told) {
      for (String channel : List.of("mqtt", "webhook:ops")) {
        String key = "a" + a.id() + "-s" + step + "-" + t.recipient().id() + "." + channel.replace(':', '-');
        expectedKeys.add(key);
        Row row = rows.stream().filter(r -> r.key.equals(key)).findFirst().orElseThrow(() -> new AssertionError(key));
        assertThat(row.channel).isEqualTo(channel);
        assertThat(row.recipient).isEqualTo(t.recipient().id());
        String expected = Json.write(oldPayload(key, a, kind, place, t.recipient(), t.reason(), step, channel));
        JsonNode want = Json.MAPPER.readTree(expected);
        assertThat(Json.MAPPER.readTree(row.payload)).as(key).isEqualTo(want);
      }
    }
    matched.addAll(expectedKeys);
  }

  /** Every row written since the last call was one {@link #assertRows} expected, and no more. */
  private void assertNoOtherRows() throws Exception {
    List<Row> rows = rowsSince(lastRow);
    assertThat(rows).extracting(r -> r.key).containsExactlyInAnyOrderElementsOf(matched);
    for (Row r : rows) {
      lastRow = Math.max(lastRow, r.id);
    }
    matched.clear();
  }

  /** The row's payload as escalation and the outbox built it before (one map per row, Jackson). */
  private Map<String, Object> oldPayload(String key, Alarm a, String kind, String place, RecipientGroup r,
      String reason, int step, String channel) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("alarmId", a.id());
    p.put("deviceId", a.deviceId());
    p.put("ruleId", a.ruleId());
    p.put("kind", kind);
    p.put("place", place);
    p.put("severity", a.severity().wireName());
    p.put("state", a.state().wireName());
    p.put("message", a.message());
    p.put("count", a.count());
    p.put("level", r.level() == null ? null : r.level().wireName());
    p.put("reason", reason);
    p.put("step", step);
    p.put("raisedAt", a.raisedAt().toString());
    p.put("at", clock.instant().truncatedTo(ChronoUnit.MICROS).toString());
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("idempotencyKey", key);
    row.putAll(p);
    row.put("recipient", r.id());
    row.put("recipientName", r.name());
    row.put("channel", channel);
    return row;
  }

  private record Row(long id, String key, String channel, String recipient, String payload) {}

  private static List<Row> rowsSince(long id) throws Exception {
    List<Row> rows = new ArrayList<>();
    try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
        "SELECT id, idempotency_key, channel, recipient, payload::text FROM outbox WHERE id > ? ORDER BY id")) {
      ps.setLong(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5)));
        }
      }
    }
    return rows;
  }

  private static long maxRow() throws Exception {
    try (Connection c = db.connect(); var st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT coalesce(max(id), 0) FROM outbox")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
