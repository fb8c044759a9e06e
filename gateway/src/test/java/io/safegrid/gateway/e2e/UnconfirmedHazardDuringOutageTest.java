package io.safegrid.gateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.safegrid.alerting.ledger.BreakableProxy;
import io.safegrid.alerting.testsupport.Mosquitto;
import io.safegrid.alerting.testsupport.NotificationSubscriber;
import io.safegrid.gateway.wiring.Gateway;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * newcomer7 F4 b / review7 R10: while the alarm ledger's database is unreachable, a gas leak the
 * rule engine raised reaches the duty page and the emergency network anyway, marked unconfirmed
 * (docs/alerting.md "Database outage"). The real gateway on the shipped site, the real TimescaleDB
 * behind a loopback {@link BreakableProxy} (new connections refused, open ones cut), Mosquitto as
 * the emergency network broker, a device publishing over MQTT 5 with Paho, the page's stream read
 * as a browser's EventSource reads it ({@link SseListener}).
 */
class UnconfirmedHazardDuringOutageTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  static final String OFFICER_TOKEN = "demo-officer-token";
  static final String LEAKING = "gas-023"; // community hongqiang
  static final String COMMUNITY = "hongqiang";
  static final String RULE = "gas-lel-threshold";

  static Mosquitto broker;
  static NotificationSubscriber emergency;

  @BeforeAll
  static void emergencyNetwork() throws Exception {
    broker = Mosquitto.start();
    emergency = new NotificationSubscriber(broker.uri());
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (emergency != null) {
      emergency.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void aGasLeakDuringTheOutageReachesThePageAndTheBrokerUnconfirmed_thenTheLedgerRaisesIt(
      @TempDir Path spool) throws Exception {
    try (BreakableProxy proxy = proxyToTestDatabase();
        Gateway gateway = Gateway.start(ThroughProxy.config(db, proxy, spool, broker.uri(), 0));
        SseListener page = SseListener.connect(gateway.ports().http(), OFFICER_TOKEN)) {
      String mqtt = "tcp://127.0.0.1:" + gateway.ports().mqtt();
      ThroughProxy.publish(mqtt, LEAKING, "{\"values\":{\"gas_lel\":1.0}}");

      // the database goes away: new connections refused, open ones cut
      proxy.refuseNew(true);
      proxy.cutAll();
      long leakAt = System.currentTimeMillis();
      ThroughProxy.publish(mqtt, LEAKING, "{\"values\":{\"gas_lel\":70}}"); // PUBACK'd from the spool

      // 1. the page's stream: event: unconfirmed, no id, within a few seconds
      SseListener.Event card = await("event: unconfirmed on /api/live").atMost(Duration.ofSeconds(12))
          .until(() -> unconfirmed(page, "waiting"), Optional::isPresent).get();
      assertThat(card.id()).as("no id: Last-Event-ID stays the ledger's").isNull();
      JsonNode d = card.data();
      assertThat(d.path("deviceId").asText()).isEqualTo(LEAKING);
      assertThat(d.path("ruleId").asText()).isEqualTo(RULE);
      assertThat(d.path("severity").asText()).isEqualTo("critical");
      assertThat(d.path("message").asText()).contains("70");
      assertThat(d.path("evidence").path("value").asDouble()).isEqualTo(70.0);
      assertThat(Instant.parse(d.path("eventTime").asText()).toEpochMilli())
          .as("the reading's time").isBetween(leakAt - 1_000, leakAt + 5_000);
      assertThat(page.events()).as("nothing from the ledger yet")
          .noneMatch(e -> e.name().equals("alarm") && LEAKING.equals(e.data().path("alarm").path("deviceId").asText()));

      // 2. the emergency network broker: straight to the community, marked unconfirmed
      NotificationSubscriber.Received direct = await("unconfirmed on the emergency broker")
          .atMost(Duration.ofSeconds(12))
          .until(() -> emergency.all().stream()
              .filter(r -> r.json().path("unconfirmed").asBoolean(false)
                  && LEAKING.equals(r.json().path("deviceId").asText()))
              .findFirst(), Optional::isPresent).get();
      assertThat(direct.topic()).isEqualTo("safegrid/notify/" + COMMUNITY);
      assertThat(direct.json().path("severity").asText()).isEqualTo("critical");
      assertThat(direct.json().path("ruleId").asText()).isEqualTo(RULE);
      assertThat(direct.json().path("alarmId").isNull()).as("no ledger row yet").isTrue();
      assertThat(direct.json().path("raisedAt").asText()).isEqualTo(d.path("eventTime").asText());

      // 3. a page opened during the outage is sent it too
      try (SseListener late = SseListener.connect(gateway.ports().http(), OFFICER_TOKEN)) {
        await("a client connecting during the outage gets it").atMost(Duration.ofSeconds(5))
            .until(() -> unconfirmed(late, "waiting"), Optional::isPresent);
      }

      // 4. the database is back: the ledger raises it, the page's card is replaced
      proxy.refuseNew(false);
      SseListener.Event raised = await("raised on /api/live").atMost(Duration.ofSeconds(40))
          .until(() -> page.events().stream()
              .filter(e -> e.name().equals("alarm") && "raised".equals(e.data().path("type").asText())
                  && LEAKING.equals(e.data().path("alarm").path("deviceId").asText()))
              .findFirst(), Optional::isPresent).get();
      assertThat(raised.id()).isNotNull();
      assertThat(raised.data().path("alarm").path("raisedAt").asText())
          .as("the ledger's raisedAt is the unconfirmed card's time").isEqualTo(d.path("eventTime").asText());
      await("event: unconfirmed committed").atMost(Duration.ofSeconds(10))
          .until(() -> unconfirmed(page, "committed"), Optional::isPresent);
      assertThat(unconfirmed(page, "committed").get().data().path("unconfirmedId").asLong())
          .isEqualTo(d.path("unconfirmedId").asLong());
      // and the ledger's own notification follows as usual
      await("the ledger's notification").atMost(Duration.ofSeconds(30))
          .until(() -> emergency.all().stream()
              .anyMatch(r -> !r.json().path("unconfirmed").asBoolean(false)
                  && LEAKING.equals(r.json().path("deviceId").asText())
                  && r.json().path("alarmId").asLong(0) > 0));
      // a client connecting now is not sent the settled card
      try (SseListener after = SseListener.connect(gateway.ports().http(), OFFICER_TOKEN)) {
        Thread.sleep(1_000);
        assertThat(after.events()).noneMatch(e -> e.name().equals("unconfirmed"));
      }
    }
  }

  private static Optional<SseListener.Event> unconfirmed(SseListener l, String status) {
    return l.events().stream()
        .filter(e -> e.name().equals("unconfirmed") && status.equals(e.data().path("status").asText())
            && LEAKING.equals(e.data().path("deviceId").asText()))
        .findFirst();
  }

  private static BreakableProxy proxyToTestDatabase() throws Exception {
    URI u = URI.create(db.jdbcUrl().substring("jdbc:".length()));
    return new BreakableProxy(u.getHost(), u.getPort());
  }
}
