package io.safegrid.alerting.escalation;

import io.safegrid.alerting.routing.GridLevel;
import io.safegrid.alerting.routing.Router;
import io.safegrid.model.Severity;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * Escalation settings.
 *
 * @param ackTimeout how long an alarm may stay unacknowledged at one grid level before it goes one
 *     level up (and, at the top, how often it is re-notified), by severity. Defaults: critical 1
 *     min, major 3 min, minor 10 min, warning 30 min.
 * @param startLevels grid level where notification starts, by severity (defaults: {@link
 *     Router#DEFAULT_START_LEVELS})
 * @param pollInterval how often (wall time) the scheduler looks for due deadlines; default 1 s
 * @param batchSize deadlines handled per transaction; default 50
 */
public record EscalationConfig(
    Map<Severity, Duration> ackTimeout, Map<Severity, GridLevel> startLevels, Duration pollInterval,
    int batchSize) {

  /** Default unacknowledged timeouts by severity. */
  public static final Map<Severity, Duration> DEFAULT_ACK_TIMEOUTS = Map.of(
      Severity.CRITICAL, Duration.ofMinutes(1),
      Severity.MAJOR, Duration.ofMinutes(3),
      Severity.MINOR, Duration.ofMinutes(10),
      Severity.WARNING, Duration.ofMinutes(30));

  /** Missing severities take the defaults. */
  public EscalationConfig {
    Map<Severity, Duration> t = new EnumMap<>(DEFAULT_ACK_TIMEOUTS);
    if (ackTimeout != null) {
      t.putAll(ackTimeout);
    }
    t.values().forEach(d -> {
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException("escalation timeouts must be positive: " + d);
      }
    });
    ackTimeout = Map.copyOf(t);
    Map<Severity, GridLevel> s = new EnumMap<>(Router.DEFAULT_START_LEVELS);
    if (startLevels != null) {
      s.putAll(startLevels);
    }
    startLevels = Map.copyOf(s);
    if (pollInterval == null || pollInterval.isZero() || pollInterval.isNegative()) {
      throw new IllegalArgumentException("pollInterval must be positive");
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be positive");
    }
  }

  /** All defaults. */
  public static EscalationConfig defaults() {
    return new EscalationConfig(null, null, Duration.ofSeconds(1), 50);
  }

  /** The timeout of a severity. */
  public Duration timeout(Severity s) {
    return ackTimeout.get(s);
  }
}
