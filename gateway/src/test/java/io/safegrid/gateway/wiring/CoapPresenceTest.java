package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Online at the first CoAP message, offline once silent for more than the device's inactivity
 * timeout (strictly more, as the rule engine's device-offline rule), online again at the next.
 */
class CoapPresenceTest {

  record Change(String deviceId, boolean online, long at, String reason) {}

  private final List<Change> changes = new CopyOnWriteArrayList<>();
  /** river gauge: 3 x 300 s; gas alarm: 3 x 60 s. */
  private final CoapPresence presence = new CoapPresence(
      (id, online, at, reason) -> changes.add(new Change(id, online, at, reason)),
      id -> id.startsWith("river") ? 900_000 : 180_000,
      () -> 0);

  @Test
  void onlineAtTheFirstMessageOfflineAfterTheInactivityTimeout() {
    presence.onMessage("river-xi-1", 1_000);
    presence.onMessage("river-xi-1", 301_000);
    presence.onMessage("gas-001", 2_000);
    assertThat(changes).containsExactly(
        new Change("river-xi-1", true, 1_000, "coap"),
        new Change("gas-001", true, 2_000, "coap"));

    presence.sweep(182_000);
    assertThat(changes).as("exactly the timeout: not yet").hasSize(2);
    presence.sweep(182_001);
    assertThat(changes).last().isEqualTo(new Change("gas-001", false, 182_001, "inactivity_timeout"));

    presence.sweep(1_201_000);
    assertThat(changes).hasSize(3);
    presence.sweep(1_201_001);
    assertThat(changes).last()
        .isEqualTo(new Change("river-xi-1", false, 1_201_001, "inactivity_timeout"));
    presence.sweep(5_000_000);
    assertThat(changes).as("offline once").hasSize(4);

    presence.onMessage("river-xi-1", 5_000_100);
    assertThat(changes).last().isEqualTo(new Change("river-xi-1", true, 5_000_100, "coap"));
  }
}
