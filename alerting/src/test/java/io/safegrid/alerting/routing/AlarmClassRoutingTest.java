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
 * out at once (newcomer7 F16, {@link AlarmClass}); a hazard tells the grid below its starting level
 * too (F28); an acknowledged alarm that rises is a new occurrence (F14). Checked on the outbox rows the ledger commits
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

  /**
   * newcomer7 F28: a major or critical leak used to start at the compound branch / community and
   * skip the unit lead household and the building group of the leaking flat, who heard only of
   * warnings. A more dangerous hazard tells at least those a milder one tells.
   */
  @Test
  void aMajorOrCriticalLeakTellsTheUnitLeadHouseholdAndTheBuildingGroupToo() throws Exception {
    Alarm warning = raise("gas-001", "river-rise-rate", Severity.WARNING, "a warning-level hazard");
    assertThat(grid(warning)).containsExactly(TestGrid.UNIT.id());
    Alarm major = raise("gas-002", "gas-lel-threshold", Severity.MAJOR, "gas 30.0 %LEL");
    assertThat(grid(major)).containsExactly(TestGrid.UNIT.id(), TestGrid.BUILDING.id(), TestGrid.COMPOUND.id());
    Alarm critical = raise("gas-003", "gas-lel-threshold", Severity.CRITICAL, "gas 60.0 %LEL");
    assertThat(grid(critical)).containsExactly(
        TestGrid.UNIT.id(), TestGrid.BUILDING.id(), TestGrid.COMPOUND.id(), TestGrid.COMMUNITY.id());
    assertThat(alerting.alarms().history(critical.id())).filteredOn(e -> e.type().equals("notified"))
        .singleElement().satisfies(e -> assertThat(e.note()).contains(TestGrid.UNIT.name()).contains(TestGrid.BUILDING.name()));

    // a rise tells the levels between the old start and the new one, nobody twice
    Alarm rising = raise("gas-004", "gas-lel-threshold", Severity.WARNING, "gas 20.0 %LEL");
    change("gas-004", "gas-lel-threshold", Severity.CRITICAL, "gas 70.0 %LEL");
    assertThat(grid(rising)).containsExactly(
        TestGrid.UNIT.id(), TestGrid.BUILDING.id(), TestGrid.COMPOUND.id(), TestGrid.COMMUNITY.id());

    // maintenance alarms keep their own starting level: a minor fault does not wake the unit lead household
    Alarm fault = raise("fire-nmxc-1", "fire-panel-fault", Severity.MAJOR, "loop 2 open circuit");
    assertThat(grid(fault)).containsExactly(TestGrid.COMPOUND.id());
  }

  /**
   * newcomer7 F14: an officer who acknowledged a 30 %LEL leak has not acknowledged 85 %LEL. The
   * rise lapses the acknowledgement (active_unacked, so the duty page sounds) and is notified as a
   * new occurrence, and escalation runs again; a fall or a repeat keeps it.
   */
  @Test
  void anAcknowledgedLeakRisingToCriticalIsUnacknowledgedAgainNotifiedAndEscalated() throws Exception {
    Alarm major = raise("gas-001", "gas-lel-threshold", Severity.MAJOR, "gas 30.0 %LEL");
    alerting.alarms().acknowledge(major.id(), "officer-li", "someone is going");
    int before = told(major).size();
    Alarm same = change("gas-001", "gas-lel-threshold", Severity.MAJOR, "gas 35.0 %LEL");
    assertThat(same.state().wireName()).isEqualTo("active_acked");

    Alarm critical = change("gas-001", "gas-lel-threshold", Severity.CRITICAL, "gas 85.0 %LEL");
    assertThat(critical.state().wireName()).isEqualTo("active_unacked");
    assertThat(critical.acknowledgedBy()).isNull();
    assertThat(alerting.alarms().find(major.id()).orElseThrow().state().wireName()).isEqualTo("active_unacked");
    assertThat(told(major).subList(before, told(major).size())).containsExactlyInAnyOrder(
        TestGrid.UNIT.id(), TestGrid.BUILDING.id(), TestGrid.COMPOUND.id(), TestGrid.COMMUNITY.id(),
        TestGrid.GAS_CO.id(), TestGrid.MARKET.id(), TestGrid.LEADER.id(), TestGrid.BUREAU.id());

    int notified = told(major).size();
    clock.advance(Duration.ofSeconds(61)); // critical: 1 min unacknowledged
    assertThat(alerting.escalator().runDue()).isEqualTo(1);
    assertThat(told(major).subList(notified, told(major).size())).containsExactly(TestGrid.DUTY.id());

    alerting.alarms().acknowledge(major.id(), "officer-li", "crew on site");
    Alarm lower = change("gas-001", "gas-lel-threshold", Severity.MAJOR, "gas 40.0 %LEL");
    assertThat(lower.state().wireName()).as("a fall keeps the acknowledgement").isEqualTo("active_acked");
    clock.advance(Duration.ofMinutes(5));
    assertThat(alerting.escalator().runDue()).isZero();
  }

  @Test
  void unknownRulesAreHazardsAndTheMaintenanceRulesAreThoseOfDocsRules() {
    assertThat(AlarmClass.ofRule("gas-combo-building")).isEqualTo(AlarmClass.HAZARD);
    assertThat(AlarmClass.ofRule("fire-gas-combo-compound")).isEqualTo(AlarmClass.HAZARD);
    assertThat(AlarmClass.ofRule("river-rise-rate")).isEqualTo(AlarmClass.HAZARD);
    assertThat(AlarmClass.ofRule("gas-device-alarm")).isEqualTo(AlarmClass.HAZARD);
    assertThat(AlarmClass.ofRule("some-new-rule")).isEqualTo(AlarmClass.HAZARD);
    assertThat(AlarmClass.ofRule(null)).isEqualTo(AlarmClass.HAZARD);
    assertThat(AlarmClass.ofRule("channel-dead:mqtt")).isEqualTo(AlarmClass.ALARM_PATH);
    assertThat(AlarmClass.ofRule("device-offline")).isEqualTo(AlarmClass.MAINTENANCE);
  }

  private Alarm raise(String device, String rule, Severity s, String message) {
    clock.advance(Duration.ofSeconds(1));
    return alerting.alarms().apply(new AlarmTransition(device, rule, AlarmTransition.Kind.RAISE, s,
        clock.millis(), message, Map.of())).orElseThrow();
  }

  private Alarm change(String device, String rule, Severity s, String message) {
    clock.advance(Duration.ofSeconds(1));
    return alerting.alarms().apply(new AlarmTransition(device, rule, AlarmTransition.Kind.SEVERITY_CHANGE, s,
        clock.millis(), message, Map.of())).orElseThrow();
  }

  /** The grid recipients (not responders, not report upward) the alarm's rows went to, in order. */
  private static List<String> grid(Alarm a) throws Exception {
    List<String> out = new ArrayList<>(told(a));
    out.removeAll(ids(RESCUE));
    out.removeAll(List.of(TestGrid.LEADER.id(), TestGrid.BUREAU.id()));
    return out;
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
