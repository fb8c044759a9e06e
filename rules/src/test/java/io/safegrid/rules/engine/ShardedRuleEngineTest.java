package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.Fixture;
import io.safegrid.rules.config.DeviceDirectory;
import io.safegrid.rules.config.DeviceProfile;
import io.safegrid.rules.config.RuleBook;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ShardedRuleEngineTest {

  private final AtomicLong clock = new AtomicLong(Fixture.T0 + 10_000);
  private final List<AlarmTransition> out = new CopyOnWriteArrayList<>();
  private final List<Flag> flags = new CopyOnWriteArrayList<>();

  private ShardedRuleEngine engine(int devices) {
    Map<String, DeviceProfile> p = new HashMap<>();
    for (int i = 1; i <= devices; i++) {
      String id = String.format("gas-%03d", i);
      p.put(id, DeviceProfile.of(id, DeviceType.GAS_ALARM));
    }
    return new ShardedRuleEngine(RuleBook.dongnan(), DeviceDirectory.of(p), clock::get, 4,
        out::add, flags::add);
  }

  @Test
  void twoThreadsFeedingTheSameDuplicateReadingsGiveOneRaise() throws Exception {
    try (ShardedRuleEngine e = engine(1)) {
      CountDownLatch start = new CountDownLatch(1);
      Runnable feeder = () -> {
        try {
          start.await();
        } catch (InterruptedException ex) {
          return;
        }
        for (int i = 0; i < 2_000; i++) {
          e.onReading(Reading.of("gas-001", "gas_lel", Fixture.T0 + i, 30.0));
        }
      };
      Thread a = new Thread(feeder);
      Thread b = new Thread(feeder);
      a.start();
      b.start();
      start.countDown();
      a.join();
      b.join();
      e.flush().get(10, TimeUnit.SECONDS);
      assertThat(out).singleElement().extracting(AlarmTransition::kind).isEqualTo(Kind.RAISE);
      EngineStats s = e.stats();
      assertThat(s.evaluated() + s.duplicates() + s.late()).isEqualTo(4_000);
      assertThat(s.errors()).isZero();
    }
  }

  @Test
  void manyDevicesAcrossShardsEachRaiseOnceAndTheTimerDriveReachesAllShards() throws Exception {
    try (ShardedRuleEngine e = engine(117)) {
      for (int round = 0; round < 3; round++) {
        for (int i = 1; i <= 117; i++) {
          e.onReading(Reading.of(String.format("gas-%03d", i), "gas_lel",
              Fixture.T0 + round * 1_000L, 26.0));
        }
      }
      e.flush().get(10, TimeUnit.SECONDS);
      assertThat(out).hasSize(117).allMatch(t -> t.kind() == Kind.RAISE);
      assertThat(e.nextDeadline()).isEqualTo(Fixture.T0 + 10_000 + 180_000 + 1);

      clock.set(e.nextDeadline());
      e.advanceTo(clock.get());
      e.flush().get(10, TimeUnit.SECONDS);
      assertThat(out.stream().filter(t -> t.ruleId().equals("device-offline"))).hasSize(117);
      assertThat(e.nextDeadline()).isEqualTo(Long.MAX_VALUE);
    }
  }

  @Test
  void restoreIsSplitByShard() throws Exception {
    try (ShardedRuleEngine e = engine(20)) {
      Map<String, Long> seen = new HashMap<>();
      for (int i = 1; i <= 20; i++) {
        seen.put(String.format("gas-%03d", i), Fixture.T0 - 3_600_000);
      }
      e.restore(new RestoreSnapshot(List.of(), seen, List.of())).get(10, TimeUnit.SECONDS);
      clock.addAndGet(180_001);
      e.advanceTo(clock.get());
      e.advanceTo(clock.get() + 60_000);
      e.flush().get(10, TimeUnit.SECONDS);
      assertThat(out).hasSize(20).allMatch(t -> t.ruleId().equals("device-offline"));
    }
  }
}
