package io.safegrid.gateway.coap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.safegrid.gateway.ingest.IngestOnTestDatabase;
import io.safegrid.gateway.mqtt.auth.RefusalGuard;
import io.safegrid.testing.TestDatabase;
import java.net.InetSocketAddress;
import java.nio.file.Files;
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
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;
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
 * concurrent guesses beyond the source's slots get 5.03 at once, and a (device, source /24) over its
 * budget gets 4.01 with an Echo option without a check, so neither answer tells a right secret
 * from a wrong one; a repeat with the Echo value proves the sender's address (review7 R1).
 * Californium clients on the real ingest path and TimescaleDB.
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
    start(refusals, CoapSettings.defaults().onLoopbackFreePorts());
  }

  private void start(RefusalGuard refusals, CoapSettings settings) {
    server = ingest.closing(new CoapIngestServer(settings, ingest.sink,
        TestDevices::secret, TestDevices::type, ingest.registry, CoapPresenceListener.NONE, refusals));
    server.start();
  }

  /**
   * The right secret is answered without the refusal delay. Its 2.04 waits for the reading's
   * commit, so another device's right secret is stored first: the first write of a fresh store
   * (class loading, the pool's first statements, a new TimescaleDB chunk) took 0.3-1.1 s on this
   * 2-core machine under load, main's code and the Echo challenge's alike, so the bound that tells
   * "at once" from "after the delay" measured the store's warm-up, not the authentication.
   */
  @Test
  void aWrongSecretIs401AfterTheDelayAndTheRightOne204AtOnce() throws Exception {
    start(null);
    long before = rows("gas-001"); // the class shares one database
    assertThat(client("127.0.0.3", "gas-002").advanced(CoapClients.post("{\"values\":{\"gas_lel\":1}}", true,
        "demo-gas-002")).getCode()).as("another device, first write of the store").isEqualTo(ResponseCode.CHANGED);
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
    assertThat(rows("gas-001") - before).isEqualTo(1);
  }

  @Test
  void concurrentGuessesBeyondTheSlotsGet503AndTellNothingWhileTheDeviceElsewhereGetsIn() throws Exception {
    // the shipped bounds, with a delay longer than the test: the guesser's 4 slots stay taken
    start(guard60s());
    long before = rows("gas-002"); // the class shares one database
    CoapClient guesser = client("127.0.0.2", "gas-002");
    Map<ResponseCode, AtomicInteger> answers = new ConcurrentHashMap<>();
    int guesses = 30;
    for (int i = 0; i < guesses; i++) {
      async(guesser, "guess" + i, answers);
    }
    // all but the 4 that hold the source's slots are answered at once
    // 5.03 once checked, and over the (gas-002, 127.0.0.0/24) budget 4.01 with an Echo option unchecked
    await().atMost(Duration.ofSeconds(10)).until(() -> beyondTheSlots(answers) == guesses - 4);
    assertThat(answers.keySet()).containsOnly(ResponseCode.SERVICE_UNAVAILABLE, ResponseCode.UNAUTHORIZED);

    // the right secret from the guesser's address: 4.01 + Echo like any other guess now, no 2.04 to learn from
    CoapResponse guessersRight = guesser.advanced(
        CoapClients.post("{\"values\":{\"gas_lel\":3}}", true, "demo-gas-002"));
    assertThat(guessersRight.getCode()).isEqualTo(ResponseCode.UNAUTHORIZED);
    assertThat(guessersRight.getOptions().getOtherOption(StandardOptionRegistry.ECHO)).isNotNull();
    // the device itself, from its own address: stored at once
    long t0 = System.nanoTime();
    CoapResponse device = client("127.0.0.1", "gas-002").advanced(
        CoapClients.post("{\"values\":{\"gas_lel\":4}}", true, "demo-gas-002"));
    assertThat(device.getCode()).isEqualTo(ResponseCode.CHANGED);
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_000);

    assertThat(ingest.counter("safegrid.coap.rejects", "server_busy")
        + ingest.counter("safegrid.coap.rejects", "echo_challenge")).isEqualTo(guesses - 4 + 1);
    assertThat(ingest.counter("safegrid.coap.rejects", "echo_challenge")).isPositive();
    assertThat(rows("gas-002") - before).isEqualTo(1);
  }

  /**
   * review7 R1: strangers at 16 addresses (and one sending from the device's own address, as a
   * forged datagram would) hold all 64 refusal slots and spend two gas alarms' budgets; before,
   * the budget was per device id and the right secret then got 5.03 unchecked while the attack ran.
   */
  @Test
  void strangersHoldingEverySlotAndSpendingADevicesBudgetCannotKeepItsRightSecretOut() throws Exception {
    RefusalGuard guard = guard60s();
    start(guard);
    long before1 = rows("gas-001"); // the class shares one database
    long before2 = rows("gas-002");
    // gas-001 reports from its usual address before the attack
    assertThat(client("127.0.0.1", "gas-001").advanced(CoapClients.post("{\"values\":{\"gas_lel\":1}}", true,
        "demo-gas-001")).getCode()).isEqualTo(ResponseCode.CHANGED);

    Map<ResponseCode, AtomicInteger> answers = new ConcurrentHashMap<>();
    holdEverySlot(guard, answers);
    // then each spends gas-001's and gas-002's budgets (5.03 at once), and so does a sender on
    // gas-001's own address (another port: what a forged source looks like to the gateway)
    int spent = 0;
    for (int a = 2; a <= 17; a++) {
      for (String id : new String[] {"gas-001", "gas-002"}) {
        async(client("127.0.0." + a, id), "wrong", answers);
        spent++;
      }
    }
    CoapClient ownAddress = client("127.0.0.1", "gas-001");
    for (int i = 0; i < 2 * RefusalGuard.DEFAULT_BUDGET; i++) {
      async(ownAddress, "wrong" + i, answers);
      spent++;
    }
    int expected = spent;
    await().atMost(Duration.ofSeconds(10)).until(() -> beyondTheSlots(answers) == expected);
    // a stranger trying the right secret learns nothing: 4.01 with an Echo option, unchecked
    assertThat(client("127.0.0.2", "gas-001").advanced(CoapClients.post("{\"values\":{\"gas_lel\":9}}", true,
        "demo-gas-001")).getCode()).as("stranger's right try").isEqualTo(ResponseCode.UNAUTHORIZED);
    double budgetRefusals = ingest.counter("safegrid.coap.rejects", "echo_challenge");
    assertThat(budgetRefusals).isPositive();

    // the devices with their right secrets: gas-001 from its usual address, gas-002 (never seen
    // before) from another /24: 2.04 and stored
    assertThat(client("127.0.0.1", "gas-001").advanced(CoapClients.post("{\"values\":{\"gas_lel\":2}}", true,
        "demo-gas-001")).getCode()).as("gas-001").isEqualTo(ResponseCode.CHANGED);
    assertThat(client("127.0.1.1", "gas-002").advanced(CoapClients.post("{\"values\":{\"gas_lel\":3}}", true,
        "demo-gas-002")).getCode()).as("gas-002").isEqualTo(ResponseCode.CHANGED);
    assertThat(rows("gas-001") - before1).as("gas-001's readings stored").isEqualTo(2);
    assertThat(rows("gas-002") - before2).as("gas-002's readings stored").isEqualTo(1);
    assertThat(ingest.counter("safegrid.coap.rejects", "echo_challenge")).as("the devices were checked")
        .isEqualTo(budgetRefusals);
  }

  /**
   * review7 R1, plain CoAP: datagrams that never complete a round trip (a forger's) spend the
   * budget of the /24 a device now sends from (its first request after a gateway start, a new
   * address: no last known good source to fall back on) while every slot is held. The device's
   * right secret gets 4.01 with an Echo option (RFC 9175), unchecked; repeated with the Echo value
   * it is checked, answered 2.04 and stored. Before, 5.03 unchecked for as long as the attack ran.
   */
  @Test
  void datagramsSpendingTheBudgetOfADevicesNewAddressCostItOneRoundTripNotItsReading() throws Exception {
    RefusalGuard guard = guard60s();
    start(guard);
    long before = rows("gas-002"); // the class shares one database
    Map<ResponseCode, AtomicInteger> answers = new ConcurrentHashMap<>();
    holdEverySlot(guard, answers);
    CoapClient forger = client("127.0.1.2", "gas-002");
    int spent = 2 * RefusalGuard.DEFAULT_BUDGET;
    for (int i = 0; i < spent; i++) {
      async(forger, "wrong" + i, answers);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> beyondTheSlots(answers) == spent);

    CoapClient device = client("127.0.1.1", "gas-002");
    CoapResponse first = device.advanced(CoapClients.post("{\"values\":{\"gas_lel\":5}}", true, "demo-gas-002"));
    assertThat(first.getCode()).as("first try, unchecked").isEqualTo(ResponseCode.UNAUTHORIZED);
    Option echo = first.getOptions().getOtherOption(StandardOptionRegistry.ECHO);
    assertThat(echo).as("Echo option of the 4.01").isNotNull();
    assertThat(rows("gas-002") - before).isZero();

    Request again = CoapClients.post("{\"values\":{\"gas_lel\":5}}", true, "demo-gas-002");
    again.getOptions().addOtherOption(echo);
    assertThat(device.advanced(again).getCode()).as("repeated with the Echo value").isEqualTo(ResponseCode.CHANGED);
    assertThat(rows("gas-002") - before).as("gas-002's reading stored").isEqualTo(1);

    // the value is bound to the device's address: from the forger's it proves nothing
    double challenges = ingest.counter("safegrid.coap.rejects", "echo_challenge");
    Request replay = CoapClients.post("{\"values\":{\"gas_lel\":6}}", true, "demo-gas-002");
    replay.getOptions().addOtherOption(echo);
    assertThat(forger.advanced(replay).getCode()).as("the Echo value replayed elsewhere").isEqualTo(ResponseCode.UNAUTHORIZED);
    assertThat(ingest.counter("safegrid.coap.rejects", "echo_challenge")).isEqualTo(challenges + 1);
    assertThat(rows("gas-002") - before).isEqualTo(1);
  }

  /**
   * review8 R8-3: after a gateway restart no device had a last known good source (kept in memory
   * only), so forged datagrams spending the budget of a device's usual /24 while every slot is
   * held kept its right secret out: 4.01 with an Echo option, which a client that cannot repeat
   * with Echo (Californium's, the simulator's) reads as a wrong secret, at every retry. Now the
   * source is kept in a file: the device at its usual address is checked and stored at once after
   * the restart, without Echo.
   */
  @Test
  void aDevicesUsualAddressIsCheckedAtOnceAfterARestartWhateverForgedDatagramsSpent(@TempDir Path data)
      throws Exception {
    CoapSettings settings = CoapSettings.defaults().onLoopbackFreePorts()
        .withLastGoodSourcesFile(data.resolve("coap-last-good-sources"));
    start(guard60s(), settings);
    long before = rows("gas-001"); // the class shares one database
    assertThat(client("127.0.0.1", "gas-001").advanced(CoapClients.post("{\"values\":{\"gas_lel\":1}}", true,
        "demo-gas-001")).getCode()).as("before the restart").isEqualTo(ResponseCode.CHANGED);
    server.close(); // the gateway stops ...
    assertThat(Files.readString(data.resolve("coap-last-good-sources"))).contains("gas-001\t127.0.0.1\n");

    RefusalGuard guard = guard60s(); // ... and starts again: a new process's memory
    start(guard, settings);
    Map<ResponseCode, AtomicInteger> answers = new ConcurrentHashMap<>();
    holdEverySlot(guard, answers);
    CoapClient forger = client("127.0.0.18", "gas-001"); // gas-001's /24
    int spent = 2 * RefusalGuard.DEFAULT_BUDGET;
    for (int i = 0; i < spent; i++) {
      async(forger, "wrong" + i, answers);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> beyondTheSlots(answers) == spent);
    assertThat(ingest.counter("safegrid.coap.rejects", "echo_challenge")).as("budget spent").isPositive();

    CoapResponse device = client("127.0.0.1", "gas-001").advanced(
        CoapClients.post("{\"values\":{\"gas_lel\":2}}", true, "demo-gas-001"));
    assertThat(device.getCode()).as("gas-001 from its usual address, no Echo").isEqualTo(ResponseCode.CHANGED);
    assertThat(rows("gas-001") - before).as("gas-001's readings stored").isEqualTo(2);
  }

  /** 16 addresses 127.0.0.2-17 send 4 wrong secrets each, held by the 60 s delay: every slot taken. */
  private void holdEverySlot(RefusalGuard guard, Map<ResponseCode, AtomicInteger> answers) {
    for (int a = 2; a <= 17; a++) {
      CoapClient stranger = client("127.0.0." + a, "gas-003");
      for (int i = 0; i < RefusalGuard.DEFAULT_PER_SOURCE_SLOTS; i++) {
        async(stranger, "guess" + i, answers);
      }
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> guard.slotsTaken() == RefusalGuard.DEFAULT_TOTAL_SLOTS);
  }

  /** Answers given at once beyond the slots: 5.03 (checked) and 4.01 with an Echo option (unchecked). */
  private static int beyondTheSlots(Map<ResponseCode, AtomicInteger> answers) {
    return count(answers, ResponseCode.SERVICE_UNAVAILABLE) + count(answers, ResponseCode.UNAUTHORIZED);
  }

  private long rows(String deviceId) throws java.sql.SQLException {
    return ingest.rows("SELECT count(*) FROM readings WHERE device_id = ?", deviceId);
  }

  /** The shipped bounds for datagrams, with a refusal delay longer than the test: held slots stay taken. */
  private static RefusalGuard guard60s() {
    return new RefusalGuard(RefusalGuard.DEFAULT_PER_SOURCE_SLOTS, RefusalGuard.DEFAULT_TOTAL_SLOTS, 60_000,
        RefusalGuard.DEFAULT_BUDGET, RefusalGuard.DEFAULT_WINDOW_MILLIS, () -> System.nanoTime() / 1_000_000,
        id -> TestDevices.secret(id).isPresent(), true);
  }

  /** A CON POST with a wrong {@code secret}, its answer's code counted in {@code answers}. */
  private static void async(CoapClient c, String secret, Map<ResponseCode, AtomicInteger> answers) {
    c.advanced(new CoapHandler() {
      @Override
      public void onLoad(CoapResponse r) {
        answers.computeIfAbsent(r.getCode(), k -> new AtomicInteger()).incrementAndGet();
      }

      @Override
      public void onError() {}
    }, CoapClients.post("{\"values\":{\"gas_lel\":1}}", true, secret));
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
