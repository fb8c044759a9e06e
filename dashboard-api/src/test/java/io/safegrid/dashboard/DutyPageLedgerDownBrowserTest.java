package io.safegrid.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.safegrid.alerting.ledger.BreakableProxy;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * newcomer7 F4 (a): while the alarm ledger's database is unreachable, no alarm reaches the page
 * (the live stream carries only what the ledger committed). An open duty page used to keep saying
 * "● 实时 Live" over its old board, and a page opened meanwhile said "无未处理报警 · No open alarms".
 * Now both say plainly that the ledger is unreachable and alarms may be missing, and come back to
 * "Live" when the database answers again. The database is cut with a loopback proxy in front of
 * the real TimescaleDB; the page runs in headless Chromium.
 */
class DutyPageLedgerDownBrowserTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static HikariDataSource poolThrough(BreakableProxy proxy) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl("jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + db.name());
    c.setUsername(db.user());
    c.setPassword(db.password());
    c.setMaximumPoolSize(4);
    c.setConnectionTimeout(2_000); // the health check's ping gives up after this
    c.setPoolName("ledger-down-test");
    return new HikariDataSource(c);
  }

  private static boolean displayed(WebDriver d, String id) {
    return d.findElement(By.id(id)).isDisplayed();
  }

  @Test
  void whileTheLedgersDatabaseIsUnreachableThePageSaysSoInsteadOfLiveAndNoOpenAlarms() throws Exception {
    URI server = URI.create(db.jdbcUrl().substring("jdbc:".length()));
    try (BreakableProxy proxy = new BreakableProxy(server.getHost(), server.getPort());
        HikariDataSource ds = poolThrough(proxy);
        Fixture f = new Fixture(ds);
        HeadlessChromium chromium = new HeadlessChromium()) {
      f.raise("gas-001", Severity.MAJOR, "燃气 31.0 %LEL 超过一级报警值 · gas 31.0 %LEL above level 1");
      ChromeDriver driver = chromium.driver;
      WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
      wait.ignoring(StaleElementReferenceException.class);
      driver.get(f.url("/?token=" + Fixture.OFFICER));
      wait.until(d -> d.findElement(By.id("conn")).getText().contains("Live"));
      wait.until(d -> d.findElement(By.id("alarms")).getText().contains("gas-001"));
      assertThat(displayed(driver, "ledger-down")).isFalse();
      String openPage = driver.getWindowHandle();

      // the database goes away: connections cut, new ones refused
      proxy.refuseNew(true);
      proxy.cutAll();
      wait.until(d -> displayed(d, "ledger-down"));
      assertThat(driver.findElement(By.id("ledger-down")).getText())
          .contains("报警可能缺失").contains("alarms may be missing");
      String conn = driver.findElement(By.id("conn")).getText();
      assertThat(conn).contains("台账不可达").doesNotContain("Live");
      assertThat(driver.findElement(By.id("conn")).getAttribute("class").split(" ")).doesNotContain("on");
      assertThat(driver.findElement(By.id("alarms")).getText()).as("the old board is kept, under the warning")
          .contains("gas-001");
      chromium.screenshot("duty-page-ledger-down-open.png");

      // a page opened during the outage: the warning, and never "No open alarms"
      driver.switchTo().newWindow(WindowType.TAB);
      driver.get(f.url("/?token=" + Fixture.OFFICER));
      wait.until(d -> displayed(d, "ledger-down"));
      wait.until(d -> displayed(d, "banner")); // the board's load failed and is retried
      assertThat(displayed(driver, "no-alarms")).as("no snapshot from the ledger: no claim").isFalse();
      assertThat(driver.findElement(By.id("conn")).getText()).doesNotContain("Live");
      chromium.screenshot("duty-page-ledger-down-fresh.png");

      // the database answers again: both pages are live, the fresh one loads the board
      proxy.refuseNew(false);
      wait.until(d -> !displayed(d, "ledger-down"));
      wait.until(d -> d.findElement(By.id("alarms")).getText().contains("gas-001"));
      wait.until(d -> d.findElement(By.id("conn")).getText().contains("Live"));
      assertThat(driver.findElement(By.id("conn")).getAttribute("class").split(" ")).contains("on");
      driver.switchTo().window(openPage);
      wait.until(d -> !displayed(d, "ledger-down"));
      wait.until(d -> d.findElement(By.id("conn")).getText().contains("Live"));
      assertThat(chromium.severeLog()).as("no script errors").allSatisfy(e ->
          assertThat(e.getMessage()).containsAnyOf("/api/", "Failed to load resource"));
    }
  }
}
