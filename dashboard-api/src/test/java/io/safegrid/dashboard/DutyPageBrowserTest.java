package io.safegrid.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.alerting.escalation.EscalationConfig;
import io.safegrid.alerting.escalation.Escalator;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.alerting.ledger.JdbcAlarmLedger;
import io.safegrid.alerting.outbox.OutboxWriter;
import io.safegrid.alerting.routing.Router;
import io.safegrid.alerting.testsupport.TestGrid;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Reading;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The duty page in headless Chromium (the Debian chromium and chromedriver, nothing downloaded):
 * a gas reading crosses level 2, the rule engine's RAISE reaches the ledger, the alarm appears on
 * the open page, the officer acknowledges it by clicking, the board updates; then it clears and is
 * closed with a disposal note. Escalation runs on the ledger (the alerting {@link Escalator} with the
 * test grid, its clock shifted by the test): the card shows the grid level reached and who was
 * notified, and follows an escalation live. Screenshots go to {@code target/duty-page-*.png}.
 */
class DutyPageBrowserTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static Fixture f;
  private static final ShiftedClock clock = new ShiftedClock();
  private static Escalator escalator;
  private static HeadlessChromium chromium;
  private static ChromeDriver driver;

  @BeforeAll
  static void start() throws Exception {
    f = new Fixture(db.dataSource(), DashboardServer.DEFAULT_CLIENT_QUEUE, clock);
    // escalation as the gateway wires it (Alerting.create), minus the outbox delivery: rows wait
    escalator = new Escalator(f.ledger, new Router(TestGrid.directory(), null),
        new OutboxWriter(recipient -> List.of("mqtt")), EscalationConfig.defaults());
    chromium = new HeadlessChromium();
    driver = chromium.driver;
  }

  @AfterAll
  static void stop() throws IOException {
    if (chromium != null) {
      chromium.close();
    }
    if (f != null) {
      f.close();
    }
  }

  private static WebDriverWait waitFor() {
    return new WebDriverWait(driver, Duration.ofSeconds(20));
  }

  private static WebElement alarmItem(long id) {
    return driver.findElement(By.cssSelector("li[data-alarm-id='" + id + "']"));
  }

  private static void screenshot(String name) throws IOException {
    chromium.screenshot(name);
  }

  /** A stored gas reading, also published live as the gateway does after storing it. */
  private static void gasReading(String device, double lel) throws Exception {
    Instant now = Instant.now();
    try (Connection c = f.dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("INSERT INTO readings (time, device_id, metric, value) VALUES (?, ?, 'gas_lel', ?)")) {
      ps.setTimestamp(1, Timestamp.from(now));
      ps.setString(2, device);
      ps.setDouble(3, lel);
      ps.executeUpdate();
    }
    f.server.liveFeed().reading(Reading.of(device, "gas_lel", now.toEpochMilli(), lel));
  }

  @Test
  void aNewCriticalAlarmAppearsLiveAndTheOfficerAcknowledgesAndClosesItByClicking() throws Exception {
    long now = System.currentTimeMillis();
    f.server.liveFeed().deviceStatus("gas-001", true, now, "connect");
    f.server.liveFeed().deviceStatus("gas-002", true, now, "connect");
    f.server.liveFeed().deviceStatus("river-jialing-1", false, now, "inactivity_timeout");
    Alarm major = f.raise("gas-002", Severity.MAJOR, "燃气 31.0 %LEL 超过一级报警值 25 %LEL · gas 31.0 %LEL above level 1");
    // its notification happened before the page opened: the page reads it from the alarm's history

    driver.get(f.url("/?token=" + Fixture.OFFICER));
    waitFor().until(ExpectedConditions.attributeContains(By.id("conn"), "class", "on"));
    assertThat(driver.getCurrentUrl()).as("the token leaves the address bar").doesNotContain("token=");
    waitFor().until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-device-id='gas-001'] .dot.on")));
    assertThat(driver.findElement(By.cssSelector("tr[data-device-id='river-jialing-1'] .dot")).getAttribute("class")).contains("off");
    assertThat(driver.findElement(By.id("grid")).getText()).contains("南门新城 Nanmen New City");
    waitFor().until(d -> "compound".equals(alarmItem(major.id()).getAttribute("data-grid-level")));
    assertThat(alarmItem(major.id()).findElement(By.cssSelector(".esc")).getText())
        .as("major gas starts at the compound (Router.DEFAULT_START_LEVELS), the unit and building below it"
            + " and the responders told too (newcomer7 F28)")
        .contains("网格层级 Grid level: 小区 Compound")
        // no outbox delivery in this test: the rows wait, so the page says queued, not notified (newcomer8 N7)
        .contains("待通知 queued for nmxc-b3-u2, nmxc-b3, nmxc, gas-company, market-supervision")
        .contains("[排队中 queued]")
        .doesNotContain("已通知")
        .contains("下次升级 next escalation");

    // the chart of gas-001 follows its readings live
    driver.findElement(By.cssSelector("tr[data-device-id='gas-001']")).click();
    waitFor().until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#chart svg polyline")));
    waitFor().until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("body[data-live-readings='gas-001']")));

    // a reading crosses level 2 (50 %LEL, GB/T 50493-2019 5.5.2); the rule engine raises
    gasReading("gas-001", 55.0);
    Alarm critical =
        f.raise("gas-001", Severity.CRITICAL, "燃气 55.0 %LEL 超过二级报警值 50 %LEL · gas 55.0 %LEL above level 2");

    waitFor().until(d -> alarmItem(critical.id()).getAttribute("data-state").equals("active_unacked"));
    WebElement item = alarmItem(critical.id());
    assertThat(item.getAttribute("class")).contains("critical").contains("unacked");
    assertThat(item.getText()).contains("gas-001").contains("55.0 %LEL").contains("老火锅 Old Hotpot");
    List<WebElement> board = driver.findElements(By.cssSelector("#alarms > li"));
    assertThat(board.get(0).getAttribute("data-alarm-id")).as("critical unacknowledged first").isEqualTo(Long.toString(critical.id()));
    waitFor().until(d -> d.getTitle().contains("NEW CRITICAL"));
    waitFor().until(d -> d.findElement(By.cssSelector("tr[data-device-id='gas-001']")).getText().contains("55 %LEL"));
    waitFor().until(d -> d.findElement(By.id("chart")).getText().contains("55 %LEL"));
    // critical gas: the community is notified at once, with the responders and the report upward
    waitFor().until(d -> "community".equals(alarmItem(critical.id()).getAttribute("data-grid-level")));
    assertThat(alarmItem(critical.id()).findElement(By.cssSelector(".esc")).getText())
        .contains("网格层级 Grid level: 社区 Community")
        .contains("nanmen-community")
        .contains("dongnan-duty-leader")
        .doesNotContain("已升级");
    screenshot("duty-page-1-new-critical.png");

    // nobody acknowledges for the critical timeout (1 min): escalation climbs to the sub-district,
    // and the open page follows live
    clock.advance(Duration.ofSeconds(61));
    assertThat(escalator.runDue()).as("only the critical alarm is due (major: 3 min)").isEqualTo(1);
    waitFor().until(d -> "sub_district".equals(alarmItem(critical.id()).getAttribute("data-grid-level")));
    WebElement esc = alarmItem(critical.id()).findElement(By.cssSelector(".esc"));
    assertThat(esc.getText())
        .contains("网格层级 Grid level: 街道 Sub-district · 已升级 1 次 escalated ×1")
        .contains("升级至 escalated to dongnan-duty")
        .contains("下次升级 next escalation");
    esc.findElement(By.cssSelector(".esc-log summary")).click();
    List<WebElement> log = esc.findElements(By.cssSelector(".esc-log ol > li"));
    assertThat(log).hasSize(2);
    assertThat(log.get(0).getText()).contains("待通知 queued for · 社区 Community · nmxc-b3-u2, nmxc-b3, nmxc, nanmen-community");
    assertThat(log.get(1).getText()).contains("升级 escalated · 街道 Sub-district · dongnan-duty")
        .contains("Dongnan sub-district duty officer");
    assertThat(alarmItem(major.id()).getAttribute("data-grid-level")).isEqualTo("compound");
    screenshot("duty-page-1b-escalated.png");

    // acknowledge by clicking
    item.findElement(By.cssSelector(".ack-btn")).click();
    waitFor().until(d -> alarmItem(critical.id()).getAttribute("data-state").equals("active_acked"));
    assertThat(alarmItem(critical.id()).getText()).contains("duty-zhang").contains("已确认 Acknowledged");
    assertThat(alarmItem(critical.id()).findElement(By.cssSelector(".ack-btn")).isDisplayed()).isFalse();
    assertThat(f.ledger.find(critical.id()).orElseThrow().state()).isEqualTo(AlarmState.ACTIVE_ACKED);
    assertThat(f.ledger.find(critical.id()).orElseThrow().acknowledgedBy()).isEqualTo("duty-zhang");
    waitFor().until(d -> driver.findElements(By.cssSelector("#alarms > li")).get(0).getAttribute("data-alarm-id")
        .equals(Long.toString(major.id())));
    waitFor().until(d -> !d.getTitle().contains("NEW CRITICAL"));
    assertThat(alarmItem(critical.id()).findElement(By.cssSelector(".esc")).getText())
        .as("acknowledged: escalation stops, no next deadline shown")
        .contains("街道 Sub-district")
        .doesNotContain("下次升级");
    screenshot("duty-page-2-acknowledged.png");

    // the gas goes down, the alarm clears; the officer writes it off with a note
    gasReading("gas-001", 3.0);
    f.clear("gas-001");
    waitFor().until(d -> alarmItem(critical.id()).getAttribute("data-state").equals("cleared_acked"));
    // the duration stops at the clear: raised -> cleared, not raised -> now
    Alarm cleared = f.ledger.find(critical.id()).orElseThrow();
    long lasted = (cleared.clearedAt().toEpochMilli() - cleared.raisedAt().toEpochMilli()) / 1000;
    String frozen = "持续 " + (lasted / 60) + ":" + String.format("%02d", lasted % 60);
    waitFor().until(d -> alarmItem(critical.id()).findElement(By.cssSelector(".age")).getText().equals(frozen));
    Thread.sleep(2200);
    assertThat(alarmItem(critical.id()).findElement(By.cssSelector(".age")).getText())
        .as("a cleared alarm's timer does not keep counting").isEqualTo(frozen);
    WebElement form = alarmItem(critical.id()).findElement(By.cssSelector(".close-form"));
    form.findElement(By.cssSelector(".close-btn")).click();
    waitFor().until(d -> alarmItem(critical.id()).findElement(By.cssSelector(".err")).getText().contains("处置说明"));
    form.findElement(By.cssSelector(".note")).sendKeys("阀门已关闭，软管已更换 valve closed, hose replaced");
    form.findElement(By.cssSelector(".close-btn")).click();
    waitFor().until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("li[data-alarm-id='" + critical.id() + "']"), 0));
    assertThat(f.ledger.find(critical.id()).orElseThrow().closeNote()).contains("valve closed");
    screenshot("duty-page-3-closed.png");

    assertThat(chromium.severeLog()).as("no script errors, no blocked (external) loads").isEmpty();
  }

  @Test
  void aViewerSeesTheBoardButNoButtonsToAct() throws Exception {
    Alarm a = f.raise("gas-601", Severity.MINOR, "电池电量低 battery low");
    driver.get(f.url("/?token=" + Fixture.VIEWER));
    waitFor().until(d -> !d.findElements(By.cssSelector("li[data-alarm-id='" + a.id() + "']")).isEmpty());
    waitFor().until(d -> d.findElement(By.id("who")).getText().contains("只读 Read-only screen"));
    assertThat(alarmItem(a.id()).findElement(By.cssSelector(".ack-btn")).isDisplayed()).isFalse();
    assertThat(f.ledger.find(a.id()).orElseThrow().state()).isEqualTo(AlarmState.ACTIVE_UNACKED);
  }
  /**
   * review8 R8-5 (newcomer8 N1): a fire spreading to another zone of an acknowledged fire alarm
   * lapses the acknowledgement in the ledger (docs/alerting.md); the open page must sound again
   * (beep, flashing title) as for a new critical alarm, not turn the card unacknowledged silently.
   */
  @Test
  void aFireSpreadingToAnotherZoneOfAnAcknowledgedAlarmSoundsAgain() throws Exception {
    driver.get(f.url("/?token=" + Fixture.OFFICER));
    waitFor().until(ExpectedConditions.attributeContains(By.id("conn"), "class", "on"));
    Alarm fire = f.ledger.apply(new AlarmTransition("fire-601", "fire-panel-fire", AlarmTransition.Kind.RAISE,
        Severity.CRITICAL, System.currentTimeMillis(), "火警 3 区 · fire in zone 3", Map.of("zone", 3)))
        .orElseThrow();
    try {
      waitFor().until(d -> alarmItem(fire.id()).getAttribute("data-state").equals("active_unacked"));
      String beeps = driver.findElement(By.tagName("body")).getAttribute("data-alarm-beeps");
      assertThat(beeps).as("a new critical alarm sounds").isNotNull();
      f.ledger.acknowledge(fire.id(), "duty-zhang", null);
      waitFor().until(d -> alarmItem(fire.id()).getAttribute("data-state").equals("active_acked"));
      waitFor().until(d -> !d.getTitle().contains("NEW CRITICAL"));

      f.ledger.apply(new AlarmTransition("fire-601", "fire-panel-fire", AlarmTransition.Kind.RAISE,
          Severity.CRITICAL, System.currentTimeMillis(), "火警 7 区 · fire in zone 7; zones in alarm: 3, 7",
          Map.of("zone", 7, JdbcAlarmLedger.SPREAD_EVIDENCE, 7, "zones", List.of(3, 7)))).orElseThrow();
      waitFor().until(d -> alarmItem(fire.id()).getAttribute("data-state").equals("active_unacked"));
      waitFor().until(d -> d.getTitle().contains("NEW CRITICAL"));
      assertThat(driver.findElement(By.tagName("body")).getAttribute("data-alarm-beeps"))
          .as("the spread sounds once more").isEqualTo(Integer.toString(Integer.parseInt(beeps) + 1));
    } finally {
      // written off, so that the other tests' board has no critical alarm of this one
      if (f.ledger.find(fire.id()).orElseThrow().state() == AlarmState.ACTIVE_UNACKED) {
        f.ledger.acknowledge(fire.id(), "duty-zhang", null);
      }
      f.ledger.apply(new AlarmTransition("fire-601", "fire-panel-fire", AlarmTransition.Kind.CLEAR,
          Severity.CRITICAL, System.currentTimeMillis(), "复位 reset", Map.of())).orElseThrow();
      f.ledger.close(fire.id(), "duty-zhang", "误报核实后复位 checked, reset");
    }
    waitFor().until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("li[data-alarm-id='" + fire.id() + "']"), 0));
  }
}
