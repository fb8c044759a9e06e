package io.safegrid.alerting.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.Alerting;
import io.safegrid.alerting.AlertingConfig;
import io.safegrid.alerting.channel.mqtt.MqttChannel;
import io.safegrid.alerting.channel.mqtt.MqttChannelConfig;
import io.safegrid.alerting.escalation.EscalationConfig;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.testsupport.Mosquitto;
import io.safegrid.alerting.testsupport.NotificationSubscriber;
import io.safegrid.alerting.testsupport.TestGrid;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * newcomer8 N7: the emergency network's broker goes down (a real Mosquitto, stopped and started
 * again) while a critical leak is called out. What the duty officer is shown (the ledger's live
 * events and the alarm's history, which the duty page renders; the {@code notifications} health
 * check; the log):
 *
 * <ul>
 *   <li>a call-out is "queued" when the ledger writes it and "delivered" only once the broker
 *       acknowledged it (a {@code delivery} event; the history's {@code details.delivery});
 *   <li>the first failed delivery of a hazard's call-out is a {@code delivery} event "failing"
 *       with {@code hazard: true} within seconds, not {@code channel-dead} after 8 attempts
 *       (about 4 minutes);
 *   <li>the health check says the broker is not connected and the call-out is failing
 *       (degraded), and a WARN line says the connection was lost and when it is back;
 *   <li>when the broker returns, the call-out is delivered without sitting out its backoff.
 * </ul>
 */
class DeliveryStateOverMqttTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final Duration WAIT = Duration.ofSeconds(10);

  private Mosquitto broker;
  private Alerting alerting;
  private final List<AlarmEvent> live = new CopyOnWriteArrayList<>();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private Logger channelLog;

  @BeforeEach
  void setUp() throws Exception {
    broker = Mosquitto.start();
    channelLog = (Logger) LoggerFactory.getLogger(MqttChannel.class);
    logs.start();
    channelLog.addAppender(logs);
    AlertingConfig cfg = new AlertingConfig(null,
        new EscalationConfig(null, null, Duration.ofMillis(100), 50),
        // the defaults' attempts and backoff (8; 2 s doubling): channel-dead would come after minutes
        new OutboxConfig(8, Duration.ofSeconds(2), Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofMillis(50), 50),
        new MqttChannelConfig(broker.uri(), "safegrid-delivery-state-test", null, null, null, Duration.ofSeconds(3)),
        List.of());
    alerting = Alerting.create(db.dataSource(), TestGrid.directory(), InstantSource.system(), cfg, new SimpleMeterRegistry());
    alerting.alarms().addListener(live::add);
    alerting.start();
  }

  @AfterEach
  void tearDown() {
    alerting.close();
    broker.close();
    channelLog.detachAppender(logs);
  }

  @Test
  void aCallOutTheBrokerCannotTakeShowsAsFailingAtOnceAndAsDeliveredWhenTheBrokerIsBack() throws Exception {
    // the broker works: the call-out is queued, then delivered
    try (NotificationSubscriber sub = new NotificationSubscriber(broker.uri())) {
      Alarm first = raise("gas-001");
      sub.take(8, WAIT);
      alerting.alarms().acknowledge(first.id(), "officer-li", "crew on the way"); // no escalation meanwhile
      AlarmEvent delivered = awaitDelivery(first.id(), "delivered");
      assertThat(delivered.actor()).isEqualTo("outbox");
      assertThat(delivered.details()).containsEntry("step", 1).containsEntry("hazard", true);
      AlarmEvent notified = notified(first.id());
      assertThat(notified.note()).startsWith("call-out queued for ").doesNotContain("notified");
      assertThat(delivery(notified)).containsEntry("state", "delivered").containsEntry("total", 8L)
          .containsEntry("delivered", 8L);
      assertThat(live).filteredOn(e -> e.alarmId() == first.id() && e.type().equals("notified")).singleElement()
          .satisfies(e -> assertThat(delivery(e)).as("the live notified event: only queued").containsEntry("state", "queued"));
      OutboxDispatcher.Health ok = alerting.outbox().health();
      assertThat(ok.degraded()).isFalse();
      assertThat(channel(ok)).containsEntry("connected", true).containsEntry("undelivered", 0L)
          .containsEntry("failingCallOuts", 0L);
    }

    // the broker dies: a WARN line, the health check says so before any alarm
    broker.close();
    await().atMost(WAIT).until(() -> Boolean.FALSE.equals(channel(alerting.outbox().health()).get("connected")));
    assertThat(alerting.outbox().health().degraded()).as("a call-out could not be delivered now").isTrue();
    assertThat(warnings()).anyMatch(m -> m.contains("LOST"));

    long raisedAt = System.nanoTime();
    Alarm leak = raise("gas-002");
    AlarmEvent failing = awaitDelivery(leak.id(), "failing");
    assertThat(Duration.ofNanos(System.nanoTime() - raisedAt)).as("the first failed attempt, not the 8th")
        .isLessThan(Duration.ofSeconds(8));
    assertThat(failing.details()).containsEntry("hazard", true).containsEntry("channel", "mqtt");
    assertThat(failing.note()).startsWith("NOT delivered");
    assertThat(delivery(notified(leak.id()))).containsEntry("state", "failing").containsEntry("delivered", 0L);
    assertThat(live).noneMatch(e -> e.alarm() != null && e.alarm().ruleId().startsWith("channel-dead"));
    OutboxDispatcher.Health down = alerting.outbox().health();
    assertThat(down.degraded()).isTrue();
    assertThat((Long) channel(down).get("failingCallOuts")).isPositive();
    assertThat((Long) channel(down).get("undelivered")).isEqualTo(8L);
    assertThat(channel(down).get("oldestUndeliveredS")).isNotNull();
    assertThat((String) channel(down).get("lastError")).contains(broker.uri());

    // the broker is back: delivered, well before the leak's backoff ran out; a WARN line says so
    broker.restart();
    await().atMost(WAIT).until(() -> deliveries(leak.id()).stream().anyMatch(e -> state(e).equals("delivered")));
    assertThat(delivery(notified(leak.id()))).containsEntry("state", "delivered");
    assertThat(warnings()).anyMatch(m -> m.contains("reachable again"));
    await().atMost(WAIT).until(() -> !alerting.outbox().health().degraded());
    assertThat(channel(alerting.outbox().health())).containsEntry("connected", true).containsEntry("undelivered", 0L);
  }

  private Alarm raise(String device) {
    return alerting.alarms().apply(new AlarmTransition(device, "gas-lel-threshold", AlarmTransition.Kind.RAISE,
        Severity.CRITICAL, System.currentTimeMillis(), "gas 80.0 %LEL above level 2 (50 %LEL)", Map.of())).orElseThrow();
  }

  private AlarmEvent awaitDelivery(long alarmId, String state) {
    await().atMost(WAIT).until(() -> deliveries(alarmId).stream().anyMatch(e -> state(e).equals(state)));
    return deliveries(alarmId).stream().filter(e -> state(e).equals(state)).findFirst().orElseThrow();
  }

  private List<AlarmEvent> deliveries(long alarmId) {
    return live.stream().filter(e -> e.alarmId() == alarmId && e.type().equals("delivery")).toList();
  }

  private AlarmEvent notified(long alarmId) {
    return alerting.alarms().history(alarmId).stream().filter(e -> e.type().equals("notified")).findFirst().orElseThrow();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> delivery(AlarmEvent e) {
    return (Map<String, Object>) e.details().get("delivery");
  }

  private static String state(AlarmEvent e) {
    return String.valueOf(delivery(e).get("state"));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> channel(OutboxDispatcher.Health h) {
    return ((Map<String, Map<String, Object>>) h.details().get("channels")).get("mqtt");
  }

  private List<String> warnings() {
    return logs.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
  }
}
