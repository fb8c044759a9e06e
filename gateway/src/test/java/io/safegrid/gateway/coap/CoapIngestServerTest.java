package io.safegrid.gateway.coap;

import static io.safegrid.gateway.coap.CoapClients.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.gateway.ingest.IngestListener;
import io.safegrid.gateway.ingest.IngestService;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The CoAP ingest server against Californium clients (CON, NON, CoAPS with PSK), behind the real
 * {@link IngestService} (the real JSON decoder) and a recording store.
 */
class CoapIngestServerTest {

  private static final String READING = "{\"ts\":1764403200000,\"seq\":1,\"values\":{\"gas_lel\":12.5}}";

  private final RecordingReadingStore store = new RecordingReadingStore();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private CoapIngestServer server;
  /** Devices the presence listener was told of, in order. */
  private final List<String> seen = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    CoapSettings settings =
        CoapSettings.defaults()
            .onLoopbackFreePorts()
            .withMaxBodyBytes(8 * 1024)
            // river gauges must use CoAPS on this site
            .withPlainAllowedTypes(EnumSet.of(DeviceType.GAS_ALARM, DeviceType.FIRE_PANEL));
    server =
        new CoapIngestServer(
            settings,
            new IngestService(store, IngestListener.NONE, registry),
            TestDevices::secret,
            TestDevices::type,
            registry,
            (deviceId, atMillis) -> seen.add(deviceId));
    server.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void portsZeroBindFreePortsAndExposeThem() {
    assertThat(server.coapPort()).isPositive().isNotEqualTo(5683);
    assertThat(server.coapsPort()).isPositive().isNotEqualTo(server.coapPort());
  }

  @Test
  void conWithSecretOptionIsStoredAndAnswered204() throws Exception {
    CoapClient client = CoapClients.plain(server.coapPort(), "/devices/gas-001/telemetry");
    CoapResponse response = client.advanced(post(READING, true, "demo-gas-001"));

    assertThat(response.getCode()).isEqualTo(ResponseCode.CHANGED);
    assertThat(store.readings)
        .extracting(Reading::deviceId, Reading::metric, Reading::value)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("gas-001", "gas_lel", 12.5));
    assertThat(registry.counter("safegrid.coap.messages", "type", "CON", "resource", "telemetry").count())
        .isEqualTo(1.0);
    assertThat(registry.summary("safegrid.coap.bytes", "resource", "telemetry").totalAmount())
        .isEqualTo(READING.length());
    // recorded once the response is sent, which may be just after the client has it
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(registry.timer("safegrid.coap.response.latency", "type", "CON").count()).isEqualTo(1));
    client.shutdown();
  }

  @Test
  void secretInUriQueryIsAcceptedToo() throws Exception {
    CoapClient client =
        CoapClients.plain(server.coapPort(), "/devices/gas-002/telemetry?s=demo-gas-002");
    CoapResponse response = client.advanced(post(READING, true, null));

    assertThat(response.getCode()).isEqualTo(ResponseCode.CHANGED);
    assertThat(store.readings).extracting(Reading::deviceId).containsExactly("gas-002");
    client.shutdown();
  }

  @Test
  void conIsAnsweredOnlyOnceTheStoreSaysDurable() throws Exception {
    store.hold = true;
    CoapClient client = CoapClients.plain(server.coapPort(), "/devices/gas-001/telemetry");
    CompletableFuture<CoapResponse> answer = new CompletableFuture<>();
    client.advanced(
        new CoapHandler() {
          @Override
          public void onLoad(CoapResponse response) {
            answer.complete(response);
          }

          @Override
          public void onError() {
            answer.completeExceptionally(new AssertionError("request failed"));
          }
        },
        post(READING, true, "demo-gas-001"));

    Thread.sleep(500); // the exchange was accepted (empty ACK), the 2.04 must wait for the commit
    assertThat(answer).isNotDone();
    store.release();

    assertThat(answer.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(ResponseCode.CHANGED);
    assertThat(store.readings).hasSize(1);
    client.shutdown();
  }

  @Test
  void nonIsStoredBestEffort() throws Exception {
    CoapClient client = CoapClients.plain(server.coapPort(), "/devices/lg-panel-1/events");
    client.advanced(
        post("{\"ts\":1764403200000,\"event\":\"fire\",\"zone\":3,\"point\":7}", false,
            "demo-lg-panel-1"));

    await().atMost(Duration.ofSeconds(5)).until(() -> store.events.size() == 1);
    assertThat(store.events.get(0).deviceId()).isEqualTo("lg-panel-1");
    assertThat(registry.counter("safegrid.coap.messages", "type", "NON", "resource", "events").count())
        .isEqualTo(1.0);
    client.shutdown();
  }

  @Test
  void coapsWithPskIsStored() throws Exception {
    CoapClient client =
        CoapClients.secure(server.coapsPort(), "/devices/jl-gauge-1/telemetry", "jl-gauge-1",
            "demo-jl-gauge-1");
    CoapResponse response =
        client.advanced(post("{\"values\":{\"water_level_m\":270.95}}", true, null));

    assertThat(response.getCode()).isEqualTo(ResponseCode.CHANGED);
    assertThat(store.readings).extracting(Reading::deviceId, Reading::value)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("jl-gauge-1", 270.95));
    client.shutdown();
  }

  @Test
  void coapsToAnotherDevicesResourceIs403() throws Exception {
    CoapClient client =
        CoapClients.secure(server.coapsPort(), "/devices/gas-002/telemetry", "gas-001",
            "demo-gas-001");
    CoapResponse response = client.advanced(post(READING, true, null));

    assertThat(response.getCode()).isEqualTo(ResponseCode.FORBIDDEN);
    assertThat(store.readings).isEmpty();
    assertThat(registry.counter("safegrid.coap.rejects", "reason", "forbidden").count()).isEqualTo(1.0);
    client.shutdown();
  }

  @Test
  void wrongPskIsRefusedAtTheHandshake() throws Exception {
    CoapClient client =
        CoapClients.secure(server.coapsPort(), "/devices/gas-001/telemetry", "gas-001",
            "not-the-secret");
    client.setTimeout(4_000L);
    CoapResponse response;
    try {
      response = client.advanced(post(READING, true, null));
    } catch (Exception handshakeFailed) {
      response = null;
    }
    assertThat(response).isNull();
    assertThat(store.readings).isEmpty();
    client.shutdown();
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(registry.counter("safegrid.coap.rejects", "reason", "dtls_handshake").count())
            .as("a failed handshake is counted").isGreaterThanOrEqualTo(1.0));
    assertThat(seen).as("nothing reached the resources").isEmpty();
  }

  @Test
  void repeatedHandshakeFailuresOfOnePeerAreLoggedOnceAMinute() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(DtlsHandshakeFailures.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      for (int i = 0; i < 2; i++) { // two devices' stacks on one address (new client port each)
        CoapClient client =
            CoapClients.secure(server.coapsPort(), "/devices/gas-001/telemetry", "gas-001",
                "not-the-secret");
        client.setTimeout(3_000L);
        try {
          assertThat(client.advanced(post(READING, true, null))).isNull();
        } catch (Exception handshakeFailed) {
          // also a refusal
        }
        client.shutdown();
        double want = i + 1;
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
            assertThat(registry.counter("safegrid.coap.rejects", "reason", "dtls_handshake").count())
                .as("each failed handshake counted once").isEqualTo(want));
      }
      assertThat(lines.list).as("one log line per peer address per minute").hasSize(1);
      assertThat(lines.list.get(0).getFormattedMessage())
          .contains("CoAPS DTLS handshake with").contains("127.0.0.1").contains("failed");
    } finally {
      logger.detachAppender(lines);
    }
    DtlsHandshakeFailures limiter = new DtlsHandshakeFailures(null, () -> 0);
    assertThat(limiter.shouldLog("127.0.0.1", 0)).isTrue();
    assertThat(limiter.shouldLog("127.0.0.1", 59_999)).isFalse();
    assertThat(limiter.shouldLog("127.0.0.2", 59_999)).as("another peer").isTrue();
    assertThat(limiter.shouldLog("127.0.0.1", 60_000)).isTrue();
  }

  @Test
  void presenceIsToldOfAuthenticatedDevicesOnly() throws Exception {
    CoapClient plain = CoapClients.plain(server.coapPort(), "/devices/gas-001/telemetry");
    assertThat(plain.advanced(post(READING, true, "demo-gas-002")).getCode())
        .isEqualTo(ResponseCode.UNAUTHORIZED);
    assertThat(seen).isEmpty();
    assertThat(plain.advanced(post(READING, true, "demo-gas-001")).getCode())
        .isEqualTo(ResponseCode.CHANGED);
    CoapClient secure =
        CoapClients.secure(server.coapsPort(), "/devices/jl-gauge-1/telemetry", "jl-gauge-1",
            "demo-jl-gauge-1");
    assertThat(secure.advanced(post("{\"values\":{\"water_level_m\":270.95}}", true, null)).getCode())
        .isEqualTo(ResponseCode.CHANGED);
    assertThat(seen).containsExactly("gas-001", "jl-gauge-1");
    plain.shutdown();
    secure.shutdown();
  }

  @Test
  void wrongOrMissingSecretIs401() throws Exception {
    CoapClient client = CoapClients.plain(server.coapPort(), "/devices/gas-001/telemetry");
    assertThat(client.advanced(post(READING, true, "demo-gas-002")).getCode())
        .isEqualTo(ResponseCode.UNAUTHORIZED);
    assertThat(client.advanced(post(READING, true, null)).getCode())
        .isEqualTo(ResponseCode.UNAUTHORIZED);
    CoapClient unknown = CoapClients.plain(server.coapPort(), "/devices/gas-999/telemetry");
    assertThat(unknown.advanced(post(READING, true, "demo-gas-999")).getCode())
        .isEqualTo(ResponseCode.UNAUTHORIZED);
    assertThat(store.readings).isEmpty();
    assertThat(registry.counter("safegrid.coap.rejects", "reason", "unauthorized").count())
        .isEqualTo(3.0);
    client.shutdown();
    unknown.shutdown();
  }

  @Test
  void plainCoapSwitchedOffForTheTypeIs403() throws Exception {
    CoapClient client = CoapClients.plain(server.coapPort(), "/devices/jl-gauge-1/telemetry");
    CoapResponse response = client.advanced(post(READING, true, "demo-jl-gauge-1"));

    assertThat(response.getCode()).isEqualTo(ResponseCode.FORBIDDEN);
    assertThat(response.getResponseText()).contains("CoAPS");
    assertThat(registry.counter("safegrid.coap.rejects", "reason", "plain_not_allowed").count())
        .isEqualTo(1.0);
    client.shutdown();
  }

  @Test
  void badJsonIs400WithDiagnosticAndKeptAsDeadLetter() throws Exception {
    CoapClient client = CoapClients.plain(server.coapPort(), "/devices/gas-001/telemetry");
    CoapResponse response = client.advanced(post("{\"values\": {\"gas_lel\": 1", true, "demo-gas-001"));

    assertThat(response.getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
    assertThat(response.getResponseText()).isNotBlank();
    assertThat(store.deadLetters).hasSize(1);
    assertThat(store.deadLetters.get(0).source()).isEqualTo("coap:/devices/gas-001/telemetry");
    assertThat(response.getResponseText()).isEqualTo(store.deadLetters.get(0).reason());
    assertThat(registry.counter("safegrid.coap.rejects", "reason", "invalid_payload").count())
        .isEqualTo(1.0);
    client.shutdown();
  }

  @Test
  void storagePushingBackIs503WithMaxAge() throws Exception {
    CoapClient client = CoapClients.plain(server.coapPort(), "/devices/gas-001/telemetry");
    store.accepting = false;
    CoapResponse busy = client.advanced(post(READING, true, "demo-gas-001"));
    assertThat(busy.getCode()).isEqualTo(ResponseCode.SERVICE_UNAVAILABLE);
    assertThat(busy.getOptions().getMaxAge()).isEqualTo(CoapSettings.DEFAULT_OVERLOAD_MAX_AGE_SECONDS);

    store.accepting = true;
    store.overloaded = true; // the future fails with StoreOverloadedException
    CoapResponse full = client.advanced(post(READING, true, "demo-gas-001"));
    assertThat(full.getCode()).isEqualTo(ResponseCode.SERVICE_UNAVAILABLE);
    assertThat(full.getOptions().getMaxAge()).isEqualTo(CoapSettings.DEFAULT_OVERLOAD_MAX_AGE_SECONDS);

    assertThat(store.readings).isEmpty();
    assertThat(registry.counter("safegrid.coap.rejects", "reason", "overloaded").count()).isEqualTo(2.0);
    client.shutdown();
  }

  @Test
  void unknownPathsAre404() throws Exception {
    CoapClient client = CoapClients.plain(server.coapPort(), "/devices/GAS_1/telemetry");
    assertThat(client.advanced(post(READING, true, "x")).getCode()).isEqualTo(ResponseCode.NOT_FOUND);
    assertThat(registry.counter("safegrid.coap.rejects", "reason", "not_found").count()).isEqualTo(1.0);
    CoapClient get = CoapClients.plain(server.coapPort(), "/devices/gas-001/telemetry");
    assertThat(get.get().getCode()).isEqualTo(ResponseCode.METHOD_NOT_ALLOWED);
    assertThat(registry.counter("safegrid.coap.rejects", "reason", "method_not_allowed").count())
        .isEqualTo(1.0);
    assertThat(seen).isEmpty();
    client.shutdown();
    get.shutdown();
  }
}
