package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.rules.engine.Flag;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Rule flags in the gateway: every one counted by reason, the first per device and reason logged. */
class RuleFlagsTest {

  @Test
  void everyFlagIsCountedAndTheFirstOfEachDeviceAndReasonIsLogged() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RuleFlags flags = new RuleFlags(registry);
    Logger logger = (Logger) LoggerFactory.getLogger(RuleFlags.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      for (int i = 0; i < 5; i++) {
        flags.accept(new Flag(Flag.Kind.CLOCK_BEHIND, "gas-109", "gas_lel", 946_684_805_000L + i,
            1_764_403_200_000L + i, "device clock is 846 s behind"));
      }
      flags.accept(new Flag(Flag.Kind.LATE_READING, "gas-109", "gas_lel", 1, 2, "raised"));
      flags.accept(new Flag(Flag.Kind.CLOCK_BEHIND, "gas-110", "gas_lel", 1, 2, "behind"));
    } finally {
      logger.detachAppender(lines);
    }
    assertThat(registry.get("safegrid.rules.flags").tag("reason", "clock_behind").counter().count())
        .isEqualTo(6.0);
    assertThat(registry.get("safegrid.rules.flags").tag("reason", "late_reading").counter().count())
        .isEqualTo(1.0);
    assertThat(registry.get("safegrid.rules.flags").tag("reason", "future_timestamp").counter()
        .count()).as("every reason is there from the start, at 0").isZero();
    assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage).hasSize(3)
        .first().asString().startsWith("device gas-109 clock_behind: device clock is 846 s behind")
        .contains("2000-01-01T00:00:05Z");
  }
}
