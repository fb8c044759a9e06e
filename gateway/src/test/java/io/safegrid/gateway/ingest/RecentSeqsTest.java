package io.safegrid.gateway.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** newcomer7 F3 / review7 R17: the pieces under {@code SeqResendEndToEndTest}. */
class RecentSeqsTest {

  private static final long NOW = 1_795_960_800_000L;

  private static long hash(String payload) {
    return RecentSeqs.hash(payload.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aSeqWithTheSamePayloadIsAResendAnotherPayloadIsNot() {
    RecentSeqs seqs = new RecentSeqs();
    CompletableFuture<IngestResult> first = new CompletableFuture<>();
    String leak = "{\"seq\":41,\"values\":{\"gas_lel\":70}}";
    assertThat(seqs.resendOf("gas-081", 41, hash(leak), NOW, first)).as("new").isNull();
    assertThat(seqs.resendOf("gas-081", 41, hash(leak), NOW, new CompletableFuture<>())).as("resend").isSameAs(first);
    assertThat(seqs.resendOf("gas-082", 41, hash(leak), NOW, new CompletableFuture<>())).as("per device").isNull();
    assertThat(seqs.resendOf("gas-081", 41, hash("{\"seq\":41,\"values\":{\"gas_lel\":65}}"), NOW,
        new CompletableFuture<>())).as("a counter that started again").isNull();
    seqs.forget("gas-081", first);
    assertThat(seqs.resendOf("gas-081", 41, hash(leak), NOW, new CompletableFuture<>()))
        .as("a first one whose storage failed is forgotten: the next offer is new").isNull();
  }

  @Test
  void eachDeviceKeepsItsLast32() {
    RecentSeqs seqs = new RecentSeqs();
    for (int i = 0; i < RecentSeqs.PER_DEVICE + 1; i++) {
      assertThat(seqs.resendOf("gas-083", i, hash("p" + i), NOW, new CompletableFuture<>())).isNull();
    }
    assertThat(seqs.resendOf("gas-083", 0, hash("p0"), NOW, new CompletableFuture<>())).as("the 33rd back: gone").isNull();
    assertThat(seqs.resendOf("gas-083", 2, hash("p2"), NOW, new CompletableFuture<>())).isNotNull();
  }

  /**
   * review8 R8-8: a match was a resend however old; a unit whose seq restarts at boot had its
   * new leak's first message (byte for byte its first boot's) dropped 20 minutes later.
   */
  @Test
  void aMatchIsAResendOnlyWithinFiveMinutesOfTheFirst() {
    RecentSeqs seqs = new RecentSeqs();
    String boot = "{\"seq\":0,\"values\":{\"gas_lel\":100.0}}";
    CompletableFuture<IngestResult> first = new CompletableFuture<>();
    assertThat(seqs.resendOf("gas-085", 0, hash(boot), NOW, first)).isNull();
    assertThat(seqs.resendOf("gas-085", 0, hash(boot), NOW + RecentSeqs.RESEND_WINDOW_MILLIS, new CompletableFuture<>()))
        .as("resent within the window").isSameAs(first);
    CompletableFuture<IngestResult> later = new CompletableFuture<>();
    assertThat(seqs.resendOf("gas-085", 0, hash(boot), NOW + 20 * 60_000L, later))
        .as("20 min later: the next boot's first message").isNull();
    assertThat(seqs.resendOf("gas-085", 0, hash(boot), NOW + 21 * 60_000L, new CompletableFuture<>()))
        .as("a resend of that one").isSameAs(later);
  }

  /** review8 R8-8: a seq that never advances: 70, 0.0, 70 is a new leak, not a resend of the first. */
  @Test
  void aMatchIsNoResendOnceTheSeqCarriedAnotherPayloadAfterIt() {
    RecentSeqs seqs = new RecentSeqs();
    String leak = "{\"seq\":0,\"values\":{\"gas_lel\":70}}";
    String clear = "{\"seq\":0,\"values\":{\"gas_lel\":0.0}}";
    assertThat(seqs.resendOf("gas-086", 0, hash(leak), NOW, new CompletableFuture<>())).isNull();
    assertThat(seqs.resendOf("gas-086", 0, hash(clear), NOW + 60_000, new CompletableFuture<>())).isNull();
    assertThat(seqs.resendOf("gas-086", 0, hash(leak), NOW + 120_000, new CompletableFuture<>()))
        .as("the leak again after its clear").isNull();
    // a numbering unit's resends of several in-flight messages still are resends
    CompletableFuture<IngestResult> five = new CompletableFuture<>();
    assertThat(seqs.resendOf("gas-087", 5, hash("a"), NOW, five)).isNull();
    assertThat(seqs.resendOf("gas-087", 6, hash("b"), NOW, new CompletableFuture<>())).isNull();
    assertThat(seqs.resendOf("gas-087", 5, hash("a"), NOW + 90_000, new CompletableFuture<>())).isSameAs(five);
  }

  @Test
  void stampsArePeekedThenClaimedAsManyAsTheMessageUsed() {
    ReceiveTimes t = new ReceiveTimes();
    long first = t.peek("gas-084", NOW);
    assertThat(first).isEqualTo(NOW);
    assertThat(t.peek("gas-084", NOW)).as("a peek takes nothing").isEqualTo(NOW);
    assertThat(t.claim("gas-084", NOW, first, 3)).isTrue();
    assertThat(t.next("gas-084", NOW)).as("after the three").isEqualTo(NOW + 3);
    long p = t.peek("gas-084", NOW);
    assertThat(t.next("gas-084", NOW)).as("another message took it meanwhile").isEqualTo(p);
    assertThat(t.claim("gas-084", NOW, p, 1)).isFalse();
  }

  @Test
  void tsLessRecordsOfOneMessageGetStamps1MsApartInBothDecoders() {
    PayloadDecoder d = new PayloadDecoder();
    byte[] three = ("[{\"seq\":7,\"values\":{\"gas_lel\":1.0,\"battery_pct\":90}},{\"ts\":" + (NOW - 5000)
        + ",\"values\":{\"gas_lel\":2.0}},{\"values\":{\"gas_lel\":70}}]").getBytes(StandardCharsets.UTF_8);
    DecodedMessage fast = d.decodeTelemetry("gas-084", three, NOW);
    DecodedMessage tree = d.treeTelemetry("gas-084", three, NOW);
    for (DecodedMessage m : List.of(fast, tree)) {
      assertThat(m.readings()).extracting(r -> r.timeMillis())
          .containsExactly(NOW, NOW, NOW - 5000, NOW + 1);
      assertThat(m.stamps()).isEqualTo(2);
      assertThat(m.seq()).isEqualTo(7);
    }
    DecodedMessage fire = d.decodeEvents("fire-x", "{\"seq\":9,\"event\":\"fire\",\"zone\":1}"
        .getBytes(StandardCharsets.UTF_8), NOW);
    assertThat(fire.seq()).isEqualTo(9);
    assertThat(fire.events().get(0).timeMillis()).isEqualTo(NOW);
  }
}
