package io.safegrid.alerting.outbox;

import io.safegrid.alerting.routing.RecipientGroup;
import java.util.List;

/** Which channels carry notifications for a recipient (e.g. MQTT for all, a webhook for some). */
@FunctionalInterface
public interface ChannelSelector {
  /** Channel names, e.g. {@code [mqtt, webhook:fire-brigade]}; empty: nobody is told. */
  List<String> channelsFor(RecipientGroup recipient);
}
