package io.safegrid.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.unconfirmed.UnconfirmedAlarm;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The duty page and annunciations (docs/alerting.md "Annunciation before the ledger",
 * docs/dashboard.md): a hazard the rule engine has just decided shows at once as an alarm card
 * "正在入账 Recording", beeping once for a critical one; the ledger's event of it turns it into the
 * ledger's card on the board without a second beep; an annunciation the ledger stalls on becomes
 * the dashed unconfirmed card without a second beep; a given-up one disappears. The real dashboard
 * and ledger on TimescaleDB; the alarm writer's calls (gateway) are played by calling the live
 * feed as the writer does. Headless Chromium.
 */
class DutyPageAnnunciationBrowserTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static String body(WebDriver d, String attribute) {
    return d.findElement(By.tagName("body")).getAttribute(attribute);
  }

  private static String text(WebDriver d, String id) {
    return d.findElement(By.id(id)).getText();
  }

  private static int cards(WebDriver d, String css) {
    return d.findElements(By.cssSelector(css)).size();
  }

  private static UnconfirmedAlarm decided(long id, String device, Severity severity, double lel) {
    AlarmTransition t = new AlarmTransition(device, "gas-lel-threshold", AlarmTransition.Kind.RAISE, severity,
        System.currentTimeMillis() - 100, "燃气 " + lel + " %LEL 超过报警值 · gas " + lel + " %LEL above the setpoint",
        Map.of("value", lel, "reading_time_ms", System.currentTimeMillis() - 100));
    return new UnconfirmedAlarm(id, t, System.currentTimeMillis(), System.currentTimeMillis());
  }

  @Test
  void theCardShowsAtTheAnnunciationBeepsOnceAndBecomesTheLedgersCardWithoutASecondBeep() throws Exception {
    try (Fixture f = new Fixture(db.dataSource());
        HeadlessChromium chromium = new HeadlessChromium()) {
      ChromeDriver driver = chromium.driver;
      WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(20));
      wait.ignoring(StaleElementReferenceException.class);
      driver.get(f.url("/?token=" + Fixture.OFFICER));
      wait.until(d -> text(d, "conn").contains("Live"));
      wait.until(d -> d.findElement(By.id("no-alarms")).isDisplayed());

      // 1. decided: the card at once, before the ledger has anything
      UnconfirmedAlarm leak = decided(11, "gas-002", Severity.CRITICAL, 70.0);
      f.server.liveFeed().annunciated(leak);
      wait.until(d -> cards(d, "#annunciations li[data-annunciation-id='11']") == 1);
      String card = driver.findElement(By.cssSelector("#annunciations li")).getText();
      assertThat(card).contains("gas-002").contains("70.0 %LEL").contains("正在入账").contains("Recording");
      assertThat(driver.findElement(By.cssSelector("#annunciations li")).getAttribute("class"))
          .contains("critical").contains("unacked");
      assertThat(cards(driver, "#annunciations li .ack-btn")).as("nothing to acknowledge before the ledger").isZero();
      assertThat(driver.findElement(By.id("no-alarms")).isDisplayed()).isFalse();
      assertThat(body(driver, "data-annunciation-beeps")).isEqualTo("1");
      assertThat(body(driver, "data-alarm-beeps")).isNull();
      wait.until(d -> d.getTitle().contains("NEW CRITICAL"));
      chromium.screenshot("duty-page-annunciation.png");

      // 2. the ledger records it: the ledger's card replaces it, no second beep
      Alarm raised = f.ledger.apply(leak.transition()).orElseThrow();
      wait.until(d -> cards(d, "#alarms li[data-alarm-id='" + raised.id() + "']") == 1);
      wait.until(d -> cards(d, "#annunciations li") == 0);
      f.server.liveFeed().annunciationSettled(leak, true);
      Thread.sleep(500);
      assertThat(driver.findElement(By.cssSelector("#alarms li[data-alarm-id='" + raised.id() + "']"))
          .getAttribute("data-state")).isEqualTo("active_unacked");
      assertThat(cards(driver, "#alarms li[data-alarm-id='" + raised.id() + "'] .ack-btn")).isEqualTo(1);
      assertThat(body(driver, "data-alarm-beeps")).as("the ledger's raised of an annunciated leak: no second beep").isNull();
      assertThat(body(driver, "data-annunciation-beeps")).isEqualTo("1");
      chromium.screenshot("duty-page-annunciation-recorded.png");

      // 3. the ledger stalls on the next one: 2 s later it is handed over as unconfirmed (same id)
      UnconfirmedAlarm stalled = decided(12, "gas-001", Severity.CRITICAL, 65.0);
      f.server.liveFeed().annunciated(stalled);
      wait.until(d -> cards(d, "#annunciations li[data-annunciation-id='12']") == 1);
      assertThat(body(driver, "data-annunciation-beeps")).isEqualTo("2");
      f.server.liveFeed().unconfirmed(stalled);
      wait.until(d -> d.findElement(By.id("unconfirmed-box")).isDisplayed());
      wait.until(d -> cards(d, "#annunciations li") == 0);
      assertThat(text(driver, "unconfirmed")).contains("gas-001");
      assertThat(body(driver, "data-unconfirmed-beeps")).as("the dashed card of an annunciated hazard: no second beep")
          .isNull();
      assertThat(body(driver, "data-annunciation-beeps")).isEqualTo("2");
      // given up for good: the card goes
      f.server.liveFeed().annunciationSettled(stalled, false);
      f.server.liveFeed().settled(stalled, false);
      wait.until(d -> !d.findElement(By.id("unconfirmed-box")).isDisplayed());

      // 4. a given-up annunciation (no unconfirmed of it) disappears too
      UnconfirmedAlarm refused = decided(13, "gas-001", Severity.MAJOR, 30.0);
      f.server.liveFeed().annunciated(refused);
      wait.until(d -> cards(d, "#annunciations li[data-annunciation-id='13']") == 1);
      assertThat(driver.findElement(By.cssSelector("#annunciations li")).getAttribute("class")).contains("major");
      assertThat(body(driver, "data-annunciation-beeps")).as("major: no beep, as for a raise").isEqualTo("2");
      f.server.liveFeed().annunciationSettled(refused, false);
      wait.until(d -> cards(d, "#annunciations li") == 0);

      // 5. an annunciation older than what the ledger already showed (a resume's replay came first) is not shown
      f.server.liveFeed().annunciated(new UnconfirmedAlarm(14, leak.transition(), leak.decidedAtMillis(),
          leak.decidedAtMillis()));
      Thread.sleep(1_000);
      assertThat(cards(driver, "#annunciations li")).isZero();
      assertThat(chromium.severeLog()).as("no script errors").isEmpty();
    }
  }
}
