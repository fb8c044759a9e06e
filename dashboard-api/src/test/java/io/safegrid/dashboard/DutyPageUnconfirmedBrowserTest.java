package io.safegrid.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.BreakableProxy;
import io.safegrid.alerting.unconfirmed.UnconfirmedAlarm;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.sql.Connection;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The duty page during a database outage (docs/alerting.md "Database outage", docs/dashboard.md):
 * newcomer7 F4 b, a hazard the ledger has not taken shows as a card "未确认入账 Not yet in the
 * ledger" above the board, with the beep, on an open page and on a page opened during the outage,
 * and the ledger's own alarm replaces it once the database is back; review7 R9, a health check
 * that does not answer (a silent network cut) is not "up": the page warns. The real dashboard and
 * ledger on TimescaleDB behind a loopback {@link BreakableProxy}; the alarm writer's hand-off
 * (gateway) is played by calling the live feed's {@code unconfirmed} as the writer does. Headless
 * Chromium.
 */
class DutyPageUnconfirmedBrowserTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static HikariDataSource poolThrough(BreakableProxy proxy, int size, long connectionTimeoutMs) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl("jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + db.name());
    c.setUsername(db.user());
    c.setPassword(db.password());
    c.setMaximumPoolSize(size);
    c.setConnectionTimeout(connectionTimeoutMs);
    c.setPoolName("unconfirmed-test");
    return new HikariDataSource(c);
  }

  private static BreakableProxy proxy() throws Exception {
    URI server = URI.create(db.jdbcUrl().substring("jdbc:".length()));
    return new BreakableProxy(server.getHost(), server.getPort());
  }

  private static boolean displayed(WebDriver d, String id) {
    return d.findElement(By.id(id)).isDisplayed();
  }

  private static String text(WebDriver d, String id) {
    return d.findElement(By.id(id)).getText();
  }

  @Test
  void aHazardTheLedgerHasNotTakenShowsAsAnUnconfirmedCardUntilTheLedgersAlarmReplacesIt() throws Exception {
    try (BreakableProxy proxy = proxy();
        HikariDataSource ds = poolThrough(proxy, 4, 2_000);
        Fixture f = new Fixture(ds);
        HeadlessChromium chromium = new HeadlessChromium()) {
      ChromeDriver driver = chromium.driver;
      WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
      wait.ignoring(StaleElementReferenceException.class);
      driver.get(f.url("/?token=" + Fixture.OFFICER));
      wait.until(d -> text(d, "conn").contains("Live"));
      assertThat(displayed(driver, "unconfirmed-box")).isFalse();
      String openPage = driver.getWindowHandle();

      proxy.refuseNew(true);
      proxy.cutAll();
      wait.until(d -> displayed(d, "ledger-down"));
      // the alarm writer hands over a fire the ledger could not take
      AlarmTransition fire = new AlarmTransition("gas-002", "gas-lel-threshold", AlarmTransition.Kind.RAISE,
          Severity.CRITICAL, System.currentTimeMillis() - 2_100,
          "燃气 70.0 %LEL 超过二级报警值 · gas 70.0 %LEL above level 2", Map.of("value", 70.0));
      UnconfirmedAlarm held = new UnconfirmedAlarm(41, fire, fire.timeMillis(), System.currentTimeMillis());
      f.server.liveFeed().unconfirmed(held);

      wait.until(d -> displayed(d, "unconfirmed-box"));
      assertThat(text(driver, "unconfirmed-box")).contains("未确认入账").contains("Not yet in the ledger")
          .contains("gas-002").contains("70.0 %LEL");
      assertThat(driver.findElement(By.cssSelector("#unconfirmed li")).getAttribute("class")).contains("critical");
      assertThat(driver.findElement(By.tagName("body")).getAttribute("data-unconfirmed-beeps")).isEqualTo("1");
      assertThat(text(driver, "alarms")).as("not on the board: no alarm in the ledger").doesNotContain("gas-002");
      chromium.screenshot("duty-page-unconfirmed-open.png");

      // a page opened during the outage gets it too (the board cannot load)
      driver.switchTo().newWindow(WindowType.TAB);
      driver.get(f.url("/?token=" + Fixture.OFFICER));
      wait.until(d -> displayed(d, "unconfirmed-box"));
      assertThat(text(driver, "unconfirmed")).contains("gas-002");
      assertThat(displayed(driver, "no-alarms")).isFalse();
      chromium.screenshot("duty-page-unconfirmed-fresh.png");
      String freshPage = driver.getWindowHandle();

      // the database is back; the ledger commits it: its alarm replaces the card on both pages
      proxy.refuseNew(false);
      Alarm raised = await("the ledger takes it once its pool reconnects").atMost(Duration.ofSeconds(30))
          .ignoreExceptions().until(() -> f.ledger.apply(fire).orElseThrow(), a -> a != null);
      f.server.liveFeed().settled(held, true);
      for (String page : new String[] {openPage, freshPage}) {
        driver.switchTo().window(page);
        wait.until(d -> text(d, "alarms").contains("gas-002"));
        wait.until(d -> !displayed(d, "unconfirmed-box"));
      }
      assertThat(raised.severity()).isEqualTo(Severity.CRITICAL);
      assertThat(chromium.severeLog()).as("no script errors").allSatisfy(e ->
          assertThat(e.getMessage()).containsAnyOf("/api/", "Failed to load resource"));
    }
  }

  @Test
  void aHealthCheckWithoutAnswerIsNotUp_thePageWarnsThatTheLedgerIsNotAnswering() throws Exception {
    // one pooled connection, held by a "stuck" user; the health check then waits for the pool
    // for 30 s, as it did behind stuck connections on a silent cut (review7 R9)
    try (BreakableProxy proxy = proxy();
        HikariDataSource ds = poolThrough(proxy, 1, 30_000);
        Fixture f = new Fixture(ds);
        HeadlessChromium chromium = new HeadlessChromium()) {
      ChromeDriver driver = chromium.driver;
      WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(40));
      wait.ignoring(StaleElementReferenceException.class);
      driver.get(f.url("/?token=" + Fixture.OFFICER));
      wait.until(d -> text(d, "conn").contains("Live"));
      Thread.sleep(1_000); // the page's first loads are done
      assertThat(displayed(driver, "ledger-down")).isFalse();

      try (Connection stuck = ds.getConnection()) {
        proxy.blackhole(true);
        wait.until(d -> displayed(d, "ledger-down"));
        assertThat(displayed(driver, "ledger-down-why")).isTrue();
        assertThat(text(driver, "ledger-down")).contains("报警可能缺失").contains("did not answer");
        assertThat(text(driver, "conn")).contains("Ledger not answering").doesNotContain("Live");
        assertThat(driver.findElement(By.tagName("body")).getAttribute("data-ledger")).isEqualTo("unknown");
        chromium.screenshot("duty-page-ledger-not-answering.png");
        proxy.blackhole(false);
      }
    }
  }
}
