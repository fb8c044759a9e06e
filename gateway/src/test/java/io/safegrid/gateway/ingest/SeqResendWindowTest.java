package io.safegrid.gateway.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * review8 R8-8: the ingest path on TimescaleDB took a seq+payload match for a resend however old
 * it was: a clockless unit (ts-less records) numbering its messages from 0 at each boot, whose
 * power is cut twice 20 minutes apart during a leak, sends its second boot's first message byte
 * for byte as its first boot's: PUBACK'd / 2.04'd but not stored (nor judged). Now a match is a
 * resend only within 5 minutes of the first message ({@link RecentSeqs#RESEND_WINDOW_MILLIS}).
 * Receive times are given to the sink as the transports give theirs.
 */
class SeqResendWindowTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final long T0 = 1_795_960_800_000L;

  @TempDir Path spool;

  private IngestOnTestDatabase ingest;

  @BeforeEach
  void open() {
    ingest = new IngestOnTestDatabase(db, spool);
  }

  @AfterEach
  void close() {
    ingest.close();
  }

  @Test
  void theSameSeqAndPayload20MinutesLaterIsStoredWithinFiveMinutesItIsAResend() throws Exception {
    byte[] boot = "{\"seq\":0,\"values\":{\"gas_lel\":100.0}}".getBytes(StandardCharsets.UTF_8);
    offer(boot, T0);
    offer(boot, T0 + 90_000); // the PUBACK was lost: resent after the reconnect
    assertThat(rows()).as("the resend is not stored again").isEqualTo(1);
    assertThat(ingest.sum("safegrid.ingest.duplicates")).isEqualTo(1);

    offer(boot, T0 + 20 * 60_000L); // the power is cut again: the next boot's first message
    assertThat(rows()).as("the second boot's message stored").isEqualTo(2);
    assertThat(ingest.sum("safegrid.ingest.duplicates")).isEqualTo(1);
  }

  private void offer(byte[] payload, long receivedAtMillis) throws Exception {
    IngestResult r = ingest.sink.telemetry("gas-085", payload, receivedAtMillis, "mqtt:devices/gas-085/telemetry")
        .get(30, TimeUnit.SECONDS);
    assertThat(r.status()).isEqualTo(IngestResult.Status.ACCEPTED);
  }

  private long rows() throws Exception {
    return ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-085' AND metric = 'gas_lel'");
  }
}
