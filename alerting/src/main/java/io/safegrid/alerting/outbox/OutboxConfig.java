package io.safegrid.alerting.outbox;

import java.time.Duration;

/**
 * Outbox delivery settings.
 *
 * @param maxAttempts after this many failed attempts a message is dead ({@code outbox.dead}) and
 *     the channel raises an alarm of its own ({@code safegrid-gateway}, rule {@code
 *     channel-dead:<channel>}); default 8
 * @param baseBackoff wait after the first failure; doubles per attempt (exponential backoff);
 *     default 2 s
 * @param maxBackoff cap of the backoff; default 5 min
 * @param lease how long a claimed message stays invisible to other dispatchers while it is sent
 *     (service clock); default 30 s
 * @param pollInterval how often (wall time) the dispatcher looks for due messages; default 1 s
 * @param batchSize messages claimed per poll; default 50
 */
public record OutboxConfig(
    int maxAttempts, Duration baseBackoff, Duration maxBackoff, Duration lease, Duration pollInterval,
    int batchSize) {
  public OutboxConfig {
    if (maxAttempts < 1 || batchSize < 1) {
      throw new IllegalArgumentException("maxAttempts and batchSize must be positive");
    }
    if (baseBackoff.isNegative() || maxBackoff.compareTo(baseBackoff) < 0 || pollInterval.isZero()
        || pollInterval.isNegative() || lease.isNegative()) {
      throw new IllegalArgumentException("bad outbox durations");
    }
  }

  /** The defaults named above. */
  public static OutboxConfig defaults() {
    return new OutboxConfig(8, Duration.ofSeconds(2), Duration.ofMinutes(5), Duration.ofSeconds(30),
        Duration.ofSeconds(1), 50);
  }

  /** The backoff after {@code attempts} failed attempts: base * 2^(attempts-1), capped. */
  public Duration backoffAfter(int attempts) {
    int shift = Math.min(Math.max(attempts - 1, 0), 30);
    Duration d = baseBackoff.multipliedBy(1L << shift);
    return d.compareTo(maxBackoff) > 0 ? maxBackoff : d;
  }
}
