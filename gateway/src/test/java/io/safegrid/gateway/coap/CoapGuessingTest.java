package io.safegrid.gateway.coap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.safegrid.gateway.ingest.IngestOnTestDatabase;
import io.safegrid.gateway.mqtt.auth.RefusalGuard;
import io.safegrid.testing.TestDatabase;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * newcomer7 F8: plain CoAP answered a wrong secret with 4.01 at once, so a guesser could try
 * ~10,000 secrets a second ({@code /tmp/nc7run/coapguess.py}). Now MQTT CONNECT's refusal policy
 * ({@link RefusalGuard}): a wrong secret's 4.01 comes after the delay, a right one's 2.04 at once;
 * concurrent guesses beyond the source's slots get 5.03 at once, and a device over its budget gets
 * 5.03 without a check, so neither answer tells a right secret from a wrong one. Californium
 * clients on the real ingest path and TimescaleDB.
 */
class CoapGuessingTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @TempDir Path spool;

  private IngestOnTestDatabase ingest;
  private CoapIngestServer server;
  private final List<CoapClient> clients = new CopyOnWriteArrayList<>();

  @BeforeEach
  void database() {
    ingest = new IngestOnTestDatabase(db, spool);
  }

  @AfterEach
  void stop() {
    clients.forEach(CoapClient::shutdown);
    ingest.close();
  }

  private void start(RefusalGuard refusals) {
    server = ingest.closing(new CoapIngestServer(CoapSettings.defaults().onLoopbackFreePorts(), ingest.sink,
        TestDevices::secret, TestDevices::type, ingest.registry, CoapPresenceListener.NONE, refusals));
    server.start();
  }

  @Test
  void aWrongSecretIs401AfterTheDelayAndTheRightOne204AtOnce() throws Exception {
    start(null);
    CoapClient client = client("127.0.0.1", "gas-001");
    for (String guess : new String[] {"guess1", "guess2", "demo-gas-999"}) {
      long t0 = System.nanoTime();
      CoapResponse r = client.advanced(CoapClients.post("{\"values\":{\"gas_lel\":1}}", true, guess));
      long took = (System.nanoTime() - t0) / 1_000_000;
      assertThat(r.getCode()).isEqualTo(ResponseCode.UNAUTHORIZED);
      assertThat(took).as("4.01 after, ms").isGreaterThanOrEqualTo(RefusalGuard.DEFAULT_DELAY_MILLIS);
    }
    long t0 = System.nanoTime();
    CoapResponse ok = client.advanced(CoapClients.post("{\"values\":{\"gas_lel\":2}}", true, "demo-gas-001"));
    long took = (System.nanoTime() - t0) / 1_000_000;
    assertThat(ok.getCode()).isEqualTo(ResponseCode.CHANGED);
    assertThat(took).as("2.04 after, ms").isLessThan(RefusalGuard.DEFAULT_DELAY_MILLIS / 2);
    assertThat(ingest.counter("safegrid.coap.rejects", "unauthorized")).isEqualTo(3);
    assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-001'")).isEqualTo(1);
  }

  @Test
  void concurrentGuessesBeyondTheSlotsGet503AndTellNothingWhileTheDeviceElsewhereGetsIn() throws Exception {
    // the shipped bounds, with a delay longer than the test: the guesser's 4 slots stay taken
    start(new RefusalGuard(RefusalGuard.DEFAULT_PER_SOURCE_SLOTS, RefusalGuard.DEFAULT_TOTAL_SLOTS, 60_000,
        RefusalGuard.DEFAULT_BUDGET, RefusalGuard.DEFAULT_WINDOW_MILLIS, () -> System.nanoTime() / 1_000_000,
        id -> TestDevices.secret(id).isPresent()));
    CoapClient guesser = client("127.0.0.2", "gas-002");
    Map<ResponseCode, AtomicInteger> answers = new ConcurrentHashMap<>();
    int guesses = 30;
    for (int i = 0; i < guesses; i++) {
      guesser.advanced(new CoapHandler() {
        @Override
        public void onLoad(CoapResponse r) {
          answers.computeIfAbsent(r.getCode(), k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void onError() {}
      }, CoapClients.post("{\"values\":{\"gas_lel\":1}}", true, "guess" + i));
    }
    // all but the 4 that hold the source's slots are answered at once
    await().atMost(Duration.ofSeconds(10)).until(() -> count(answers, ResponseCode.SERVICE_UNAVAILABLE) == guesses - 4);
    assertThat(answers.keySet()).containsOnly(ResponseCode.SERVICE_UNAVAILABLE);

    // the right secret from the guesser's address: 5.03 like any other guess, no 2.04 to learn from
    CoapResponse guessersRight = guesser.advanced(
        CoapClients.post("{\"values\":{\"gas_lel\":3}}", true, "demo-gas-002"));
    assertThat(guessersRight.getCode()).isEqualTo(ResponseCode.SERVICE_UNAVAILABLE);
    // the device itself, from its own address: stored at once
    long t0 = System.nanoTime();
    CoapResponse device = client("127.0.0.1", "gas-002").advanced(
        CoapClients.post("{\"values\":{\"gas_lel\":4}}", true, "demo-gas-002"));
    assertThat(device.getCode()).isEqualTo(ResponseCode.CHANGED);
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_000);

    assertThat(ingest.counter("safegrid.coap.rejects", "server_busy")
        + ingest.counter("safegrid.coap.rejects", "refusal_budget")).isEqualTo(guesses - 4 + 1);
    assertThat(ingest.counter("safegrid.coap.rejects", "refusal_budget")).isPositive();
    assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-002'")).isEqualTo(1);
  }

  private static int count(Map<ResponseCode, AtomicInteger> answers, ResponseCode code) {
    AtomicInteger n = answers.get(code);
    return n == null ? 0 : n.get();
  }

  /** A plain CoAP client posting to {@code id}'s telemetry from loopback address {@code from}. */
  private CoapClient client(String from, String id) {
    CoapClient c = new CoapClient("coap://127.0.0.1:" + server.coapPort() + "/devices/" + id + "/telemetry");
    c.setEndpoint(new CoapEndpoint.Builder()
        .setConfiguration(CoapClients.clientConfig())
        .setInetSocketAddress(new InetSocketAddress(from, 0))
        .build());
    c.setTimeout(10_000L);
    clients.add(c);
    return c;
  }
}
