package io.safegrid.alerting.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.safegrid.alerting.routing.GridLevel;
import io.safegrid.alerting.routing.RecipientGroup;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The text of an outbox row's payload ({@code OutboxWriter.rowJson}, spliced from the payload's
 * entries) is the text Jackson wrote for the row's map before: the same characters, for
 * escalation's payloads of several alarms, recipients and channels, and for payloads the splice
 * does not take (they still go through Jackson).
 */
class OutboxRowJsonTest {
  private static final RecipientGroup COMMUNITY = new RecipientGroup("nanmen-community", "Nanmen community committee", GridLevel.COMMUNITY);
  private static final RecipientGroup GAS_CO = RecipientGroup.responder("gas-company", "Nanchong \"city\" gas company 南充燃气");
  private static final RecipientGroup NO_NAME = RecipientGroup.responder("dongnan-duty-leader", null);

  @Test
  void escalationPayloadsOfSeveralAlarmsAreWrittenAsJacksonWroteThem() {
    String[] messages = {"gas 55.0 %LEL above level 2 (50 %LEL)", "燃气 61.5 %LEL \"above\"\tlevel\n3 \\ \u0007", "", null};
    Instant raised = Instant.parse("2026-11-30T04:00:00.123456Z");
    long[] ids = {1, 12, 2_147_483_648L, Long.MAX_VALUE};
    int step = 1;
    for (long id : ids) {
      for (String message : messages) {
        for (RecipientGroup r : List.of(COMMUNITY, GAS_CO, NO_NAME)) {
          Map<String, Object> p = new LinkedHashMap<>(32);
          p.put("alarmId", id);
          p.put("deviceId", "gas-00" + step);
          p.put("ruleId", "gas-lel-threshold");
          p.put("kind", "gas");
          p.put("place", "Dongnan / Nanmen community / Nanmen New City / building 3 / unit 2 - Bench 7");
          p.put("severity", "critical");
          p.put("state", "active_unacked");
          p.put("message", message);
          p.put("count", step);
          p.put("level", r.level() == null ? null : r.level().wireName());
          p.put("reason", r.level() == null ? "responder" : "alarm");
          p.put("step", step);
          p.put("raisedAt", raised.toString());
          p.put("at", raised.plusNanos(step * 1_001_000L).toString());
          OutboxWriter.Notification n = new OutboxWriter.Notification("a" + id + "-s" + step + "-" + r.id(), r, p);
          for (String channel : List.of("mqtt", "webhook:ops", "webhook:\"odd\"")) {
            assertSameAsJackson(n.key() + "." + channel.replace(':', '-'), n, channel);
          }
          step++;
        }
      }
    }
  }

  @Test
  void payloadsTheSpliceDoesNotTakeAreStillWrittenAsJacksonWroteThem() {
    Map<String, Object> ownRecipient = new LinkedHashMap<>();
    ownRecipient.put("alarmId", 7L);
    ownRecipient.put("recipient", "overwritten in place");
    ownRecipient.put("idempotencyKey", "overwritten at the front");
    Map<String, Object> notPlain = new LinkedHashMap<>();
    notPlain.put("alarmId", 7L);
    notPlain.put("amount", new BigDecimal("12.50"));
    notPlain.put("when", 1.5f);
    Map<String, Object> nested = new HashMap<>();
    nested.put("evidence", Map.of("gas_lel", 55.0, "zones", List.of("B2", 3)));
    nested.put("nothing", null);
    for (Map<String, Object> p : List.of(ownRecipient, notPlain, nested, Map.<String, Object>of())) {
      OutboxWriter.Notification n = new OutboxWriter.Notification("a7-s1-gas-company", GAS_CO, p);
      assertSameAsJackson("a7-s1-gas-company.mqtt", n, "mqtt");
    }
    assertThat(OutboxWriter.rowJson("k", new OutboxWriter.Notification("k", GAS_CO, ownRecipient), "mqtt"))
        .startsWith("{\"idempotencyKey\":\"overwritten at the front\",\"alarmId\":7,\"recipient\":\"gas-company\"");
  }

  @Test
  void aNullPayloadFailsAsItDidBefore() {
    OutboxWriter.Notification n = new OutboxWriter.Notification("k", GAS_CO, null);
    assertThatThrownBy(() -> OutboxWriter.jacksonRowJson("k.mqtt", n, "mqtt")).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> OutboxWriter.rowJson("k.mqtt", n, "mqtt")).isInstanceOf(NullPointerException.class);
  }

  private static void assertSameAsJackson(String key, OutboxWriter.Notification n, String channel) {
    assertThat(OutboxWriter.rowJson(key, n, channel)).isEqualTo(OutboxWriter.jacksonRowJson(key, n, channel));
  }
}
