package io.safegrid.gateway.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.safegrid.model.Reading;
import io.safegrid.rules.config.RuleBook;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReceiveTimesAndMetricBudgetTest {

  private static final long NOW = 1_795_960_800_000L;

  /** newcomer7 F12: one device's messages in one millisecond get distinct, increasing times. */
  @Test
  void receiveTimesAreUniquePerDeviceAndFollowTheClock() {
    ReceiveTimes t = new ReceiveTimes();
    assertThat(t.next("gas-065", NOW)).isEqualTo(NOW);
    assertThat(t.next("gas-065", NOW)).isEqualTo(NOW + 1);
    assertThat(t.next("gas-065", NOW)).isEqualTo(NOW + 2);
    assertThat(t.next("gas-066", NOW)).as("another device has its own").isEqualTo(NOW);
    assertThat(t.next("gas-065", NOW + 1)).isEqualTo(NOW + 3);
    assertThat(t.next("gas-065", NOW + 50)).as("the clock passed the stamps: the clock").isEqualTo(NOW + 50);
    assertThat(t.next("gas-065", NOW + 40)).as("a message handled after a later one").isEqualTo(NOW + 51);
    assertThat(t.next("gas-065", NOW - 60_000)).as("the gateway's clock stepped back a minute: follow it")
        .isEqualTo(NOW - 60_000);
  }

  private static List<Reading> readings(String device, String... metrics) {
    List<Reading> r = new ArrayList<>();
    for (String m : metrics) {
      r.add(new Reading(device, m, NOW, 1.0, Reading.NO_SEQ));
    }
    return r;
  }

  private static DecodedMessage message(String device, String... metrics) {
    return new DecodedMessage(readings(device, metrics), List.of(), List.of(), null);
  }

  /** newcomer7 F21: known names always pass; others up to the allowance per device, first come. */
  @Test
  void metricBudgetKeepsKnownNamesAndAnAllowancePerDevice() {
    MetricBudget b = new MetricBudget(Set.of("gas_lel"), 2);
    DecodedMessage ok = message("gas-077", "gas_lel");
    assertThat(b.apply("gas-077", ok)).as("nothing over: the same message").isSameAs(ok);
    DecodedMessage over = b.apply("gas-077", message("gas-077", "x1", "gas_lel", "x2", "x3", "x1", "x4", "x3"));
    assertThat(over.readings()).extracting(Reading::metric).containsExactly("x1", "gas_lel", "x2", "x1");
    assertThat(over.rejections()).singleElement().asString()
        .isEqualTo("too many metric names: gas-077 already sends 2 names no rule of the site reads; refused 2 more: x3, x4");
    assertThat(b.apply("gas-077", message("gas-077", "x3")).error()).startsWith("too many metric names: ");
    assertThat(b.apply("gas-077", message("gas-077", "x2", "gas_lel")).rejections()).as("kept names stay kept").isEmpty();
    assertThat(b.apply("gas-078", message("gas-078", "x1", "x2")).rejections()).as("per device").isEmpty();
    assertThat(b.apply("gas-077", message("gas-077", "gas_lel")).rejections()).isEmpty();
    assertThatThrownBy(() -> new MetricBudget(Set.of(), -1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theSitesBudgetKnowsTheMetricsItsRulesRead() {
    MetricBudget b = MetricBudget.forRules(RuleBook.dongnan());
    List<String> names = new ArrayList<>();
    for (int i = 0; i < MetricBudget.DEFAULT_ALLOWANCE; i++) {
      names.add("junk_" + i);
    }
    assertThat(b.apply("gas-001", message("gas-001", names.toArray(String[]::new))).rejections()).isEmpty();
    assertThat(b.apply("gas-001", message("gas-001", "gas_lel", "junk_99")).readings())
        .extracting(Reading::metric).containsExactly("gas_lel");
  }
}
