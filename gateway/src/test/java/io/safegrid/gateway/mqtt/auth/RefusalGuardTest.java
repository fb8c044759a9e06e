package io.safegrid.gateway.mqtt.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The refusal slots and budgets of {@link RefusalGuard}, on a clock the test moves. */
class RefusalGuardTest {

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final RefusalGuard guard =
      new RefusalGuard(2, 3, 1_000, 3, 60_000, now::get, Set.of("gas-001", "gas-002")::contains);

  @Test
  void aSourceHoldsAtMostItsSlotsAndAllSourcesAtMostTheTotal() throws Exception {
    InetAddress a = InetAddress.getByName("10.0.0.1");
    InetAddress b = InetAddress.getByName("10.0.0.2");
    assertThat(guard.refused(a, "x").slot()).isNotNull();
    assertThat(guard.refused(a, "x").slot()).isNotNull();
    assertThat(guard.refused(a, "x").slot()).as("a's third").isNull();
    RefusalGuard.Slot b1 = guard.refused(b, "x").slot();
    assertThat(b1).isNotNull();
    assertThat(guard.refused(b, "x").slot()).as("over the total of 3").isNull();
    assertThat(guard.slotsTaken()).isEqualTo(3);
    b1.close();
    b1.close(); // once only
    assertThat(guard.slotsTaken()).isEqualTo(2);
    assertThat(guard.refused(b, "x").slot()).isNotNull();
  }

  @Test
  void aDeviceOverItsBudgetIsRefusedUncheckedOnlyWhileItsSourceIsFullAndOnlyForTheWindow() throws Exception {
    InetAddress a = InetAddress.getByName("10.0.0.1");
    InetAddress c = InetAddress.getByName("10.0.0.3");
    List<RefusalGuard.Refusal> r = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      r.add(guard.refused(a, "gas-001"));
    }
    assertThat(r).extracting(RefusalGuard.Refusal::firstInWindow).containsExactly(true, false, false, false);
    assertThat(r).extracting(RefusalGuard.Refusal::budgetJustSpent).containsExactly(false, false, true, false);
    assertThat(guard.refuseUnchecked(a, "gas-001")).as("a full, gas-001 over budget").isTrue();
    assertThat(guard.refuseUnchecked(a, "gas-002")).as("another device from a").isFalse();
    assertThat(guard.refuseUnchecked(c, "gas-001")).as("gas-001 from a source with free slots").isFalse();
    now.addAndGet(60_000);
    assertThat(guard.refuseUnchecked(a, "gas-001")).as("next window").isFalse();
  }

  @Test
  void unknownIdsAreNeitherCountedNorLoggedAndIpv6CountsPerSlash64() throws Exception {
    RefusalGuard.Refusal r = guard.refused(InetAddress.getByName("10.0.0.1"), "no-such-device");
    assertThat(r.firstInWindow()).isFalse();
    InetAddress v6a = InetAddress.getByName("2001:db8:1:2::1");
    InetAddress v6b = InetAddress.getByName("2001:db8:1:2:ffff::9");
    assertThat(RefusalGuard.key(v6a)).isEqualTo(RefusalGuard.key(v6b));
    assertThat(guard.refused(v6a, "x").slot()).isNotNull();
    assertThat(guard.refused(v6b, "x").slot()).isNotNull();
    assertThat(guard.refused(InetAddress.getByName("2001:db8:1:2::7"), "x").slot()).as("the /64's third").isNull();
  }

  @Test
  void strangersSpendOnlyTheirOwnPrefixsBudget() throws Exception {
    // all 3 slots taken by two strangers in 10.0.0.0/24, who then spend gas-001's budget there
    guard.refused(InetAddress.getByName("10.0.0.1"), "x");
    guard.refused(InetAddress.getByName("10.0.0.1"), "x");
    guard.refused(InetAddress.getByName("10.0.0.2"), "x");
    for (int i = 0; i < 5; i++) {
      guard.refused(InetAddress.getByName("10.0.0." + (1 + i % 2)), "gas-001");
    }
    assertThat(guard.refuseUnchecked(InetAddress.getByName("10.0.0.2"), "gas-001")).as("the stranger").isTrue();
    assertThat(guard.refuseUnchecked(InetAddress.getByName("10.0.0.99"), "gas-001")).as("same /24").isTrue();
    assertThat(guard.refuseUnchecked(InetAddress.getByName("10.0.1.7"), "gas-001")).as("another /24").isFalse();
    assertThat(guard.refuseUnchecked(InetAddress.getByName("10.0.0.2"), "gas-002")).as("another device").isFalse();
  }

  @Test
  void theLastKnownGoodSourceHasABudgetOfItsOwnAndOnForgeableSourcesIsAlwaysChecked() throws Exception {
    RefusalGuard udp = new RefusalGuard(2, 3, 1_000, 3, 60_000, now::get, Set.of("gas-001")::contains, true);
    InetAddress device = InetAddress.getByName("10.0.0.50");
    for (RefusalGuard g : List.of(guard, udp)) {
      g.accepted(device, "gas-001");
      for (int i = 0; i < 6; i++) {
        g.refused(InetAddress.getByName("10.0.0." + (1 + i % 2)), "gas-001"); // takes all 3 slots, spends the /24
      }
      assertThat(g.refuseUnchecked(InetAddress.getByName("10.0.0.51"), "gas-001")).as("new address, same /24").isTrue();
      assertThat(g.refuseUnchecked(device, "gas-001")).as("its last known good source").isFalse();
      for (int i = 0; i < 3; i++) {
        g.refused(device, "gas-001"); // a guesser on the device's own address (a NAT), or a forged datagram
      }
    }
    assertThat(guard.refuseUnchecked(device, "gas-001")).as("TCP: that source's own budget spent").isTrue();
    assertThat(udp.refuseUnchecked(device, "gas-001")).as("UDP: always checked").isFalse();
    now.addAndGet(60_000);
    assertThat(guard.refuseUnchecked(device, "gas-001")).as("next window").isFalse();
  }

  @Test
  void beyondSixteenLivePrefixesTheRestShareOneBudgetButTheLastKnownGoodSourceKeepsItsOwn() throws Exception {
    InetAddress device = InetAddress.getByName("10.200.0.1");
    guard.accepted(device, "gas-001");
    for (int p = 0; p < RefusalGuard.PREFIXES_PER_DEVICE; p++) {
      guard.refused(InetAddress.getByName("10.1." + p + ".1"), "gas-001");
    }
    for (int i = 0; i < 3; i++) {
      guard.refused(InetAddress.getByName("10.9." + i + ".1"), "gas-001"); // 3 more prefixes: one shared budget
    }
    guard.refused(InetAddress.getByName("10.9.0.1"), "x"); // the third slot: all taken
    assertThat(guard.refuseUnchecked(InetAddress.getByName("10.77.0.1"), "gas-001")).as("a new prefix").isTrue();
    assertThat(guard.refuseUnchecked(InetAddress.getByName("10.1.0.9"), "gas-001")).as("a tracked prefix, 1 refusal")
        .isFalse();
    assertThat(guard.refuseUnchecked(device, "gas-001")).as("last known good").isFalse();
    now.addAndGet(60_000);
    assertThat(guard.refuseUnchecked(InetAddress.getByName("10.77.0.1"), "gas-001")).as("next window").isFalse();
  }

  @Test
  void budgetsAreKeptPerIpv6Slash64() throws Exception {
    guard.refused(InetAddress.getByName("2001:db8:1:2::1"), "x");
    guard.refused(InetAddress.getByName("2001:db8:1:2::2"), "x");
    guard.refused(InetAddress.getByName("2001:db8:1:3::1"), "x");
    for (int i = 0; i < 3; i++) {
      guard.refused(InetAddress.getByName("2001:db8:1:2::" + (i + 5)), "gas-001");
    }
    assertThat(guard.refuseUnchecked(InetAddress.getByName("2001:db8:1:2::ff"), "gas-001")).isTrue();
    assertThat(guard.refuseUnchecked(InetAddress.getByName("2001:db8:1:4::1"), "gas-001")).isFalse();
    assertThat(RefusalGuard.prefix(InetAddress.getByName("192.0.2.77"))).isEqualTo(InetAddress.getByName("192.0.2.0"));
  }

  @Test
  void boundsOutOfRangeAreRefused() {
    assertThatThrownBy(() -> new RefusalGuard(0, 1, 0, 1, 1, now::get, id -> true))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new RefusalGuard(4, 3, 0, 1, 1, now::get, id -> true))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
