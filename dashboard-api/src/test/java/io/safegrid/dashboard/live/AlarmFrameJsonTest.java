package io.safegrid.dashboard.live;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.alerting.ledger.Json;
import io.safegrid.dashboard.api.AlarmJson;
import io.safegrid.model.Severity;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The live feed's {@code event: alarm} frame ({@link LiveFeed#alarmFrame}, written without
 * Jackson) is, character for character, the frame it sent before: {@code id: <id>\nevent:
 * alarm\ndata: } + the dashboard mapper's JSON of {@link AlarmJson#event} + a blank line, for the
 * events of a rule transition, escalation, an acknowledgement, a close and a few odd ones.
 */
class AlarmFrameJsonTest {
  private static final Instant T = Instant.parse("2026-11-30T04:00:00.123456Z");

  @Test
  void framesOfTheLedgersEventsAreTheFramesJacksonWrote() {
    List<AlarmEvent> events = new ArrayList<>();
    // as the ledger hands them over (Json.stored / Json.storedAlarm: jsonb key order and number types)
    Map<String, Object> evidence = new LinkedHashMap<>();
    evidence.put("metric", "gas_lel");
    evidence.put("value", 61.5);
    evidence.put("unit", "%LEL");
    evidence.put("reading_time_ms", 1_764_475_262_123L);
    evidence.put("level", "critical");
    evidence.put("previous_level", null);
    evidence.put("setpoint", 50.0);
    evidence.put("hysteresis", 5);
    evidence.put("direction", "above");
    Alarm raised = Json.storedAlarm(new Alarm(42, "probe-007", "gas-lel-threshold", Severity.CRITICAL,
        AlarmState.ACTIVE_UNACKED, 3, "gas 61.5 %LEL above level 3 (50 %LEL)", evidence, T.minusSeconds(90), T,
        null, null, null, null, null));
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("severity", "critical");
    details.put("eventTime", "2026-11-30T04:00:00.100Z");
    events.add(new AlarmEvent(1001, 42, "reopened", AlarmState.CLEARED_UNACKED, AlarmState.ACTIVE_UNACKED, "rules",
        "gas 61.5 %LEL", T, raised, Json.stored(details)));
    Map<String, Object> notified = new LinkedHashMap<>();
    notified.put("level", "community");
    notified.put("step", 2);
    notified.put("recipients", List.of("nanmen-community", "gas-company", "market-supervision"));
    notified.put("nextEscalationAt", T.plusSeconds(60).toString());
    events.add(new AlarmEvent(1002, 42, "notified", AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_UNACKED,
        "escalation", "notified Nanmen community committee; reported upward", T, raised, Json.stored(notified)));
    Alarm acked = new Alarm(42, "probe-007", "gas-lel-threshold", Severity.CRITICAL, AlarmState.ACTIVE_ACKED, 3,
        "燃气 \"61.5\" %LEL\t\\ \u0001\u2028", Map.of(), T.minusSeconds(90), T.plusMillis(5), "officer-li",
        T.plusMillis(5), null, null, null);
    events.add(new AlarmEvent(1003, 42, "acknowledged", AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_ACKED,
        "officer-li", null, T.plusMillis(5), acked, Map.of()));
    Alarm closed = new Alarm(43, "gauge-jialing-1", "river-level", Severity.WARNING, AlarmState.CLOSED, 1,
        null, null, Instant.parse("2026-11-30T00:00:00Z"), T.plusSeconds(3), "officer-li", T.plusSeconds(1),
        T.plusSeconds(2), T.plusSeconds(3), "written off: sensor fouled by debris");
    events.add(new AlarmEvent(1004, 43, "closed", AlarmState.CLEARED_ACKED, AlarmState.CLOSED, "officer-li",
        "written off", T.plusSeconds(3), closed, null));
    events.add(new AlarmEvent(1005, 44, "raised", null, AlarmState.ACTIVE_UNACKED, "rules", null, T, null,
        Map.of("nested", Map.of("list", List.of(1, 2L, 3.25, true)))));
    for (AlarmEvent e : events) {
      assertSameAsBefore(e);
    }
  }

  @Test
  void valuesJsonTextHandsToTheMapperComeOutInTheSameFrame() {
    Alarm odd = new Alarm(45, "gas-001", "gas-lel-threshold", Severity.MAJOR, AlarmState.ACTIVE_UNACKED, 1, "m",
        Map.of("amount", new BigDecimal("12.50"), "ratio", 0.5f, "nan", Double.NaN), T, T, null, null, null, null, null);
    AlarmEvent e = new AlarmEvent(1006, 45, "raised", null, AlarmState.ACTIVE_UNACKED, "rules", "m", T, odd, Map.of());
    assertSameAsBefore(e);
  }

  private static void assertSameAsBefore(AlarmEvent e) {
    String before = "id: " + e.id() + "\nevent: alarm\ndata: "
        + io.safegrid.dashboard.http.Json.write(AlarmJson.event(e)) + "\n\n";
    LiveEvent frame = LiveFeed.alarmFrame(e);
    assertThat(frame.frame()).isEqualTo(before);
    assertThat(frame.event()).isEqualTo("alarm");
    assertThat(frame.alarmEventId()).isEqualTo(e.id());
    assertThat(frame.isAlarm()).isTrue();
  }
}
