package io.safegrid.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.time.Duration;
import java.time.InstantSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The open duty page across a recreated database (what {@code bin/safegrid demo} does at every
 * start, and what a restore or a fail-over does): the gateway stops, comes back on the same port on
 * a new ledger whose event ids are below the page's Last-Event-ID; the browser's EventSource
 * reconnects by itself with that id. The page must get {@code event: reset}, drop the old board,
 * show the new ledger's alarms (alerting for a new critical one) and follow it live.
 */
class DutyPageResetBrowserTest {
  @RegisterExtension static final TestDatabase dropped = new TestDatabase();
  @RegisterExtension static final TestDatabase recreated = new TestDatabase();
  private static Fixture before;
  private static Fixture after;
  private static HeadlessChromium chromium;

  @AfterAll
  static void stop() throws Exception {
    if (chromium != null) {
      chromium.close();
    }
    for (Fixture f : new Fixture[] {before, after}) {
      if (f != null) {
        f.close();
      }
    }
  }

  private static boolean boardShows(ChromeDriver d, String deviceId) {
    return d.findElement(By.id("alarms")).getText().contains(deviceId);
  }

  @Test
  void afterTheDatabaseIsRecreatedTheOpenPageReloadsAndShowsTheNewLedgersCriticalAlarms() throws Exception {
    before = new Fixture(dropped.dataSource(), DashboardServer.DEFAULT_CLIENT_QUEUE);
    for (int i = 1; i <= 8; i++) {
      before.raise("gas-10" + i, Severity.MAJOR, "the dropped database's alarm " + i);
    }
    chromium = new HeadlessChromium();
    ChromeDriver driver = chromium.driver;
    WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
    wait.ignoring(StaleElementReferenceException.class); // the board is re-rendered as events come
    driver.get(before.url("/?token=" + Fixture.OFFICER));
    wait.until(ExpectedConditions.attributeContains(By.id("conn"), "class", "on"));
    wait.until(d -> boardShows((ChromeDriver) d, "gas-108"));
    long pageLastId = before.ledger.maxEventId();

    // the gateway stops; the database is dropped and created again; the gateway starts on the
    // same port. Its ledger begins again: every id is below the page's Last-Event-ID
    int port = before.port();
    before.close();
    before = null;
    after = new Fixture(recreated.dataSource(), DashboardServer.DEFAULT_CLIENT_QUEUE, InstantSource.system(), port);
    Alarm gas = after.raise("gas-201", Severity.CRITICAL, "燃气 75.0 %LEL 超过二级报警值 50 %LEL · gas 75.0 %LEL above level 2");
    assertThat(after.ledger.maxEventId()).isLessThan(pageLastId);

    wait.until(d -> boardShows((ChromeDriver) d, "gas-201"));
    assertThat(boardShows(driver, "gas-101")).as("the dropped database's board is gone").isFalse();
    assertThat(driver.findElement(By.cssSelector("li[data-alarm-id='" + gas.id() + "']")).getAttribute("data-state"))
        .isEqualTo("active_unacked");
    wait.until(d -> d.getTitle().contains("NEW CRITICAL ALARM gas-201"));
    wait.until(ExpectedConditions.attributeContains(By.id("conn"), "class", "on"));
    chromium.screenshot("duty-page-4-after-reset.png");

    // and live from the new ledger: the page re-armed its Last-Event-ID from the new snapshot
    Alarm fire = after.raise("fire-yuefu", Severity.CRITICAL, "火警 fire, zone 3 point 7");
    wait.until(d -> boardShows((ChromeDriver) d, "fire-yuefu"));
    wait.until(d -> d.getTitle().contains("NEW CRITICAL ALARM fire-yuefu"));
    assertThat(fire.id()).isLessThan(pageLastId);
    Counter resets = after.registry.counter("safegrid.live.resets", "reason", "unknown_event_id");
    assertThat(resets.count()).as("one reset, then the page resumes with the new ledger's ids").isEqualTo(1);
    // the requests the stopped gateway cut or refused are logged (the stream, history loads)
    assertThat(chromium.severeLog())
        .as("no script errors")
        .allMatch(e -> e.getMessage().contains("Failed to load resource: net::ERR_"));
  }
}
