package io.safegrid.dashboard.live;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/** {@link LiveFeed#epochMillis}: the hand-written reader agrees with {@link Instant#parse}. */
class LiveFeedEpochMillisTest {

  @Test
  void agreesWithInstantParseOnEveryFormInstantToStringWrites() {
    List<String> fixed = List.of("2026-11-29T08:00:00Z", "2026-11-29T08:00:00.1Z", "2026-11-29T08:00:00.12Z",
        "2026-11-29T08:00:00.123Z", "2026-11-29T08:00:00.123400Z", "2026-11-29T08:00:00.123456789Z",
        "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999Z", "2024-02-29T23:59:59.999999Z", "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z",
        // not the fast form: Instant.parse reads them
        "+10000-01-01T00:00:00Z", "-0001-06-01T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T23:59:60Z");
    for (String s : fixed) {
      assertThat(LiveFeed.epochMillis(s)).as(s).isEqualTo(Instant.parse(s).toEpochMilli());
    }
    ThreadLocalRandom r = ThreadLocalRandom.current();
    for (int i = 0; i < 20_000; i++) {
      Instant t = Instant.ofEpochSecond(r.nextLong(-62_000_000_000L, 253_000_000_000L), r.nextInt(1_000_000_000));
      if (i % 3 == 0) {
        t = Instant.ofEpochMilli(t.toEpochMilli()); // the ledger's eventTime: millisecond precision
      }
      String s = t.toString();
      assertThat(LiveFeed.epochMillis(s)).as(s).isEqualTo(t.toEpochMilli());
    }
  }

  @Test
  void otherTextIsNotAnInstant() {
    for (String bad : List.of("", "yesterday", "2026-11-29 08:00:00Z", "2026-11-29T08:00:00", "2026-02-30T08:00:00Z",
        "2026-13-01T08:00:00Z", "2026-11-29T25:00:00Z", "2026-11-29T08:0a:00Z")) {
      assertThat(LiveFeed.epochMillis(bad)).as(bad).isEqualTo(Long.MIN_VALUE);
    }
  }
}
