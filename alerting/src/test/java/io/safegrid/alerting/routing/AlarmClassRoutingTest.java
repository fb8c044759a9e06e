package io.safegrid.alerting.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.Alerting;
import io.safegrid.alerting.AlertingConfig;
import io.safegrid.alerting.MutableClock;
import io.safegrid.alerting.escalation.EscalationConfig;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.outbox.OutboxConfig;
import io.safegrid.alerting.testsupport.TestGrid;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Maintenance alarms (a silent gauge, a low battery, a faulty, shielded or mains-fault panel, a
 * gas detector fault) go to the grid alone; hazards (gas, fire, flood) still call their responders
 * out at once (newcomer7 F16, {@link AlarmClass}). Checked on the outbox rows the ledger commits
 * with each alarm on the real TimescaleDB (no channel runs: the rows stay to be read).
 */
class AlarmClassRoutingTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final List<RecipientGroup> RESCUE = List.of(
      TestGrid.GAS_CO, TestGrid.MARKET, TestGrid.FIRE, TestGrid.FLOOD, TestGrid.MILITIA);

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T08:00:00Z"));
  private Alerting alerting;

  @BeforeEach
  void setUp() {
    AlertingConfig cfg = new AlertingConfig(null,
        new EscalationConfig(null, null, Duration.ofMillis(50), 50),
        new OutboxConfig(5, Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(30), Duration.ofMillis(50), 50),
        null, List.of());
    alerting = Alerting.create(db.dataSource(), TestGrid.directory(), clock, cfg, new SimpleMeterRegistry(),
        List.of(), recipient -> List.of("mqtt"));
  }

  @AfterEach
  void tearDown() throws Exception {
    alerting.close();
    try (Connection c = db.connect(); var st = c.createStatement()) {
      st.execute("TRUNCATE outbox, alarm_events, alarms"); // each test starts with no alarm open
    }
  }

  @Test
  void anOfflineRiverGaugeCallsOutNoRescueTeamButAFloodDoes() throws Exception {
    Alarm offline = raise("gauge-jialing-1", "device-offline", Severity.MINOR, "no message for 900 s");
    assertThat(told(offline)).containsExactly(TestGrid.COMMUNITY.id());

    Alarm flood = raise("gauge-jialing-1", "river-level-threshold", Severity.MAJOR, "river 271.20 m above warning 270.80 m");
    assertThat(told(flood)).contains(TestGrid.FLOOD.id(), TestGrid.MILITIA.id());
  }

  @Test
  void aLowBatteryOrFaultyGasDetectorCallsNoGasCompanyButALeakDoes() throws Exception {
    Alarm battery = raise("gas-001", "low-battery", Severity.WARNING, "battery 15 %");
    assertThat(told(battery)).containsExactly(TestGrid.UNIT.id());
    Alarm fault = raise("gas-002", "gas-fault", Severity.MINOR, "sensor failure");
    assertThat(told(fault)).containsExactly(TestGrid.BUILDING.id());
    Alarm offline = raise("gas-003", "device-offline", Severity.MINOR, "no message for 180 s");
    assertThat(told(offline)).containsExactly(TestGrid.BUILDING.id());

    Alarm leak = raise("gas-004", "gas-lel-threshold", Severity.MAJOR, "gas 30.0 %LEL above level 1 (25 %LEL)");
    assertThat(told(leak)).contains(TestGrid.GAS_CO.id(), TestGrid.MARKET.id());
  }

  @Test
  void aShieldedOrMainsFaultPanelCallsNoFireBrigadeButAFireDoes() throws Exception {
    for (String rule : List.of("fire-panel-shield", "fire-panel-mains-fault", "fire-panel-backup-fault",
        "fire-panel-fault", "fire-panel-supervisory", "device-offline")) {
      Alarm a = raise("fire-nmxc-1", rule, Severity.MINOR, rule);
      assertThat(told(a)).as(rule).doesNotContainAnyElementsOf(ids(RESCUE)).isNotEmpty();
    }
    Alarm fire = raise("fire-nmxc-1", "fire-panel-fire", Severity.CRITICAL, "fire zone 3 point 12");
    assertThat(told(fire)).contains(TestGrid.FIRE.id(), TestGrid.LEADER.id(), TestGrid.BUREAU.id());
  }

  @Test
  void aMaintenanceAlarmNobodyAcknowledgesClimbsTheGridToTheDutyOfficerWithoutRescueTeams() throws Exception {
    Alarm offline = raise("gauge-jialing-1", "device-offline", Severity.MINOR, "no message for 900 s");
    clock.advance(Duration.ofMinutes(10).plusSeconds(1));
    assertThat(alerting.escalator().runDue()).isEqualTo(1);
    clock.advance(Duration.ofMinutes(10).plusSeconds(1));
    assertThat(alerting.escalator().runDue()).isEqualTo(1);
    assertThat(told(offline)).containsExactly(TestGrid.COMMUNITY.id(), TestGrid.DUTY.id(), TestGrid.DUTY.id());
  }

  @Test
  void unknownRulesAreHazardsAndTheMaintenanceRulesAreThoseOfDocsRules() {
    assertThat(AlarmClass.ofRule("gas-combo-building")).isEqualTo(AlarmClass.HAZARD);
    assertThat(AlarmClass.ofRule("fire-gas-combo-compound")).isEqualTo(AlarmClass.HAZARD);
    assertThat(AlarmClass.ofRule("river-rise-rate")).isEqualTo(AlarmClass.HAZARD);
    assertThat(AlarmClass.ofRule("gas-device-alarm")).isEqualTo(AlarmClass.HAZARD);
    assertThat(AlarmClass.ofRule("some-new-rule")).isEqualTo(AlarmClass.HAZARD);
    assertThat(AlarmClass.ofRule(null)).isEqualTo(AlarmClass.HAZARD);
    assertThat(AlarmClass.ofRule("channel-dead:mqtt")).isEqualTo(AlarmClass.MAINTENANCE);
  }

  private Alarm raise(String device, String rule, Severity s, String message) {
    clock.advance(Duration.ofSeconds(1));
    return alerting.alarms().apply(new AlarmTransition(device, rule, AlarmTransition.Kind.RAISE, s,
        clock.millis(), message, Map.of())).orElseThrow();
  }

  private static List<String> ids(List<RecipientGroup> groups) {
    return groups.stream().map(RecipientGroup::id).toList();
  }

  /** Recipients of the alarm's outbox rows, in the order written. */
  private static List<String> told(Alarm a) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
        "SELECT recipient FROM outbox WHERE alarm_id = ? ORDER BY id")) {
      ps.setLong(1, a.id());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }
}
