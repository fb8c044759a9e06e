package io.safegrid.alerting;

import io.safegrid.alerting.channel.mqtt.MqttChannelConfig;
import io.safegrid.alerting.channel.webhook.WebhookConfig;
import io.safegrid.alerting.escalation.EscalationConfig;
import io.safegrid.alerting.ledger.LedgerConfig;
import io.safegrid.alerting.outbox.OutboxConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything alerting needs besides the database, the site's grid, the clock and the metrics.
 *
 * @param ledger reopen window
 * @param escalation timeouts by severity, start levels, poll interval
 * @param outbox retries, backoff, dead-channel threshold
 * @param mqtt the emergency network broker, or null for no MQTT channel
 * @param webhooks HTTP webhooks (may be empty)
 */
public record AlertingConfig(
    LedgerConfig ledger, EscalationConfig escalation, OutboxConfig outbox, MqttChannelConfig mqtt,
    List<WebhookConfig> webhooks) {

  /**
   * @throws IllegalArgumentException when two webhooks share a name
   */
  public AlertingConfig {
    ledger = ledger == null ? LedgerConfig.defaults() : ledger;
    escalation = escalation == null ? EscalationConfig.defaults() : escalation;
    outbox = outbox == null ? OutboxConfig.defaults() : outbox;
    webhooks = webhooks == null ? List.of() : List.copyOf(webhooks);
    Set<String> names = new HashSet<>();
    for (WebhookConfig w : webhooks) {
      if (!names.add(w.name())) {
        throw new IllegalArgumentException("two webhooks named " + w.name());
      }
    }
  }

  /** Defaults, with the MQTT broker (or null) and no webhooks. */
  public static AlertingConfig of(MqttChannelConfig mqtt) {
    return new AlertingConfig(null, null, null, mqtt, List.of());
  }
}
