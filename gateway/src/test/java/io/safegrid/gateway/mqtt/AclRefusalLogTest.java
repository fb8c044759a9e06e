package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The per-device limit of the ACL refusal log (newcomer5 F6), on a real Netty event loop with a
 * 300 ms window instead of a minute: the first refusal in full, then one summary per window while
 * the device keeps at it, and in full again after a quiet window. {@code MqttDeadLetterTest}
 * checks the gateway side (every refusal counted and kept, one line).
 */
class AclRefusalLogTest {

  @Test
  void firstRefusalInFullThenOneSummaryPerWindowThenInFullAgain() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(AclRefusalLog.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    DefaultEventLoop loop = new DefaultEventLoop();
    try {
      AclRefusalLog log = new AclRefusalLog(300);
      for (int i = 0; i < 50; i++) {
        log.refused("gas-001", "devices/gas-002/telemetry", loop);
      }
      log.refused("gas-003", "devices/gas-001/events", loop);
      assertThat(messages(lines)).containsExactly(
          "device gas-001: PUBLISH to devices/gas-002/telemetry refused (not its topic); this device's further"
              + " refusals are logged as one count a minute (each is counted in safegrid.mqtt.rejects and kept in"
              + " dead_letters)",
          "device gas-003: PUBLISH to devices/gas-001/events refused (not its topic); this device's further"
              + " refusals are logged as one count a minute (each is counted in safegrid.mqtt.rejects and kept in"
              + " dead_letters)");
      await().atMost(Duration.ofSeconds(3)).until(() -> lines.list.size() == 3);
      assertThat(messages(lines).get(2))
          .isEqualTo("device gas-001: 49 more PUBLISH refused (not its topic) in the last 300 ms, the last to"
              + " devices/gas-002/telemetry");
      // still at it in the next window: counted, summarized again
      log.refused("gas-001", "devices/gas-009/status", loop);
      await().atMost(Duration.ofSeconds(3)).until(() -> lines.list.size() == 4);
      assertThat(messages(lines).get(3)).startsWith("device gas-001: 1 more PUBLISH refused");
      // a quiet window forgets the device: the next refusal is in full again
      Thread.sleep(800);
      log.refused("gas-001", "devices/gas-002/telemetry", loop);
      assertThat(messages(lines)).hasSize(5);
      assertThat(messages(lines).get(4)).startsWith("device gas-001: PUBLISH to devices/gas-002/telemetry refused");
    } finally {
      logger.detachAppender(lines);
      loop.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  private static List<String> messages(ListAppender<ILoggingEvent> lines) {
    return lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }
}
