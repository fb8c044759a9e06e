package io.safegrid.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.channel.mqtt.MqttChannel;
import io.safegrid.alerting.channel.mqtt.MqttChannelConfig;
import io.safegrid.alerting.escalation.EscalationConfig;
import io.safegrid.alerting.escalation.Escalator;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.outbox.OutboxConfig;
import io.safegrid.alerting.outbox.OutboxDispatcher;
import io.safegrid.alerting.outbox.OutboxWriter;
import io.safegrid.alerting.routing.Router;
import io.safegrid.alerting.testsupport.Mosquitto;
import io.safegrid.alerting.testsupport.TestGrid;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * newcomer8 N7 on the duty page: the emergency network's broker (a real Mosquitto) is down when a
 * critical gas leak is raised. The page shows at once a red banner "通知未送达 · Call-out NOT
 * delivered" naming the leak, beeps, and the card's notification line says "call-out NOT
 * delivered", not "notified"; when the broker is back and the call-out delivered, the banner goes
 * and the card says "已通知 notified". The real ledger, escalation and outbox delivery (the
 * alerting module's classes, wired as Alerting.create does) on TimescaleDB; headless Chromium.
 */
class DutyPageCallOutBrowserTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static boolean displayed(WebDriver d, String id) {
    return d.findElement(By.id(id)).isDisplayed();
  }

  private static String text(WebDriver d, String id) {
    return d.findElement(By.id(id)).getText();
  }

  private static String card(WebDriver d, long alarmId, String attribute) {
    return d.findElement(By.cssSelector("#alarms li[data-alarm-id='" + alarmId + "']")).getAttribute(attribute);
  }

  @Test
  void aLeaksCallOutTheBrokerDidNotTakeShowsAsNotDeliveredAtOnceAndAsNotifiedWhenDelivered() throws Exception {
    Mosquitto broker = Mosquitto.start();
    broker.close(); // down from the start; restarted on the same port below
    try (Fixture f = new Fixture(db.dataSource());
        HeadlessChromium chromium = new HeadlessChromium()) {
      new Escalator(f.ledger, new Router(TestGrid.directory(), null), new OutboxWriter(r -> List.of(MqttChannel.NAME)),
          EscalationConfig.defaults());
      try (OutboxDispatcher outbox = new OutboxDispatcher(db.dataSource(), InstantSource.system(),
          List.of(new MqttChannel(new MqttChannelConfig(broker.uri(), "callout-page-test", null, null, null,
              Duration.ofSeconds(2)))),
          new OutboxConfig(8, Duration.ofSeconds(2), Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofMillis(100), 50),
          f.ledger, new SimpleMeterRegistry())) {
        outbox.start();
        ChromeDriver driver = chromium.driver;
        WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
        wait.ignoring(StaleElementReferenceException.class);
        driver.get(f.url("/?token=" + Fixture.OFFICER));
        wait.until(d -> text(d, "conn").contains("Live"));
        assertThat(displayed(driver, "call-out-failing")).isFalse();

        Alarm leak = f.raise("gas-001", Severity.CRITICAL, "燃气 80.0 %LEL 超过二级报警值 · gas 80.0 %LEL above level 2");
        outbox.wake();
        wait.until(d -> displayed(d, "call-out-failing"));
        assertThat(text(driver, "call-out-failing")).contains("通知未送达").contains("Call-out NOT delivered")
            .contains("gas-001").contains("Unable to connect");
        assertThat(driver.findElement(By.tagName("body")).getAttribute("data-call-out-failing")).isEqualTo("1");
        assertThat(driver.findElement(By.tagName("body")).getAttribute("data-call-out-beeps")).isEqualTo("1");
        wait.until(d -> "failing".equals(card(d, leak.id(), "data-delivery")));
        String line = driver.findElement(By.cssSelector("#alarms li[data-alarm-id='" + leak.id() + "'] .esc-last")).getText();
        assertThat(line).contains("call-out NOT delivered to").contains("NOT DELIVERED, retrying").doesNotContain("已通知");
        chromium.screenshot("duty-page-call-out-not-delivered.png");

        broker.restart();
        wait.until(d -> "delivered".equals(card(d, leak.id(), "data-delivery")));
        wait.until(d -> !displayed(d, "call-out-failing"));
        assertThat(driver.findElement(By.cssSelector("#alarms li[data-alarm-id='" + leak.id() + "'] .esc-last")).getText())
            .contains("已通知 notified").contains("[已送达 delivered]");
        assertThat(chromium.severeLog()).as("no script errors").allSatisfy(e ->
            assertThat(e.getMessage()).containsAnyOf("/api/", "Failed to load resource"));
      }
    } finally {
      broker.close();
    }
  }
}
