package io.safegrid.gateway.coap;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.gateway.ingest.IngestListener;
import io.safegrid.gateway.ingest.IngestService;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.BlockOption;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A device streaming 2,000 block1 blocks of 1 KiB (about 2 MB) at a gateway bounded to 16 KiB
 * bodies: the blockwise layer answers 4.13 as soon as the bound is passed, keeps nothing of the
 * rest, and the heap does not grow with the transfer.
 */
class Block1BoundTest {

  private static final int MAX_BODY = 16 * 1024;
  private static final int BLOCK = 1024;
  private static final int BLOCKS = 2000;

  private final RecordingReadingStore store = new RecordingReadingStore();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private CoapIngestServer server;

  @BeforeEach
  void start() {
    server =
        new CoapIngestServer(
            CoapSettings.defaults().onLoopbackFreePorts().withMaxBodyBytes(MAX_BODY),
            new IngestService(store, IngestListener.NONE, registry),
            TestDevices::secret,
            TestDevices::type,
            registry);
    server.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void twoThousandBlocksWithoutSize1Get413EarlyAndTheHeapStaysFlat() throws Exception {
    RawCoapDevice device = new RawCoapDevice(server.coapPort());
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long before = usedAfterGc(memory);
    long peak = before;

    int first413 = -1;
    int continued = 0;
    int laterBuffered = 0;
    byte[] block = new byte[BLOCK];
    for (int num = 0; num < BLOCKS; num++) {
      Arrays.fill(block, (byte) ('a' + num % 26));
      Request request = CoapClients.post(null, true, "demo-gas-001");
      request.getOptions().setUriPath("/devices/gas-001/telemetry");
      request.setPayload(block.clone());
      request.getOptions().setBlock1(new BlockOption(BlockOption.size2Szx(BLOCK), num < BLOCKS - 1, num));
      Response response = device.exchange(request);
      assertThat(response).as("answer to block %d", num).isNotNull();
      ResponseCode code = response.getCode();
      if (code == ResponseCode.CONTINUE) {
        if (first413 < 0) {
          continued++;
        } else {
          laterBuffered++;
        }
      } else if (code == ResponseCode.REQUEST_ENTITY_TOO_LARGE && first413 < 0) {
        first413 = num;
      }
      if (num % 250 == 249) {
        peak = Math.max(peak, usedAfterGc(memory));
      }
    }
    long after = usedAfterGc(memory);

    // 16 KiB take 16 blocks of 1 KiB: the 17th passes the bound and is refused at once
    assertThat(first413).isEqualTo(MAX_BODY / BLOCK);
    assertThat(continued).isEqualTo(MAX_BODY / BLOCK);
    assertThat(laterBuffered).as("blocks after the 4.13 must not be taken").isZero();
    assertThat(store.readings).isEmpty();
    assertThat(registry.counter("safegrid.coap.rejects", "reason", "too_large").count()).isPositive();
    // buffering the 2 MB body would show; the deduplicator keeps at most 64 recent messages a peer
    assertThat(Math.max(peak, after) - before).as("heap growth, bytes").isLessThan(1024 * 1024);
    System.out.printf("heap before %d KiB, peak %d KiB, after %d KiB (2,000 x 1 KiB sent)%n",
        before / 1024, peak / 1024, after / 1024);
    device.close();
  }

  @Test
  void californiumClientWithSize1IsRefusedAtTheFirstBlock() throws Exception {
    AtomicInteger blocksSeen = new AtomicInteger();
    for (Endpoint endpoint : serverEndpoints()) {
      endpoint.addInterceptor(
          new MessageInterceptorAdapter() {
            @Override
            public void receiveRequest(Request request) {
              if (request.getOptions().hasBlock1()) {
                blocksSeen.incrementAndGet();
              }
            }
          });
    }
    CoapClient client = CoapClients.plain(server.coapPort(), "/devices/gas-001/telemetry");
    byte[] body = new byte[BLOCKS * BLOCK];
    Arrays.fill(body, (byte) ' ');
    Request request = CoapClients.post(null, true, "demo-gas-001");
    request.setPayload(body);

    CoapResponse response = client.advanced(request);

    assertThat(response.getCode()).isEqualTo(ResponseCode.REQUEST_ENTITY_TOO_LARGE);
    assertThat(blocksSeen.get()).isLessThanOrEqualTo(MAX_BODY / BLOCK + 1);
    System.out.printf("Californium client: 4.13 after %d block(s)%n", blocksSeen.get());
    client.shutdown();
  }

  private java.util.List<Endpoint> serverEndpoints() throws Exception {
    var field = CoapIngestServer.class.getDeclaredField("server");
    field.setAccessible(true);
    return ((org.eclipse.californium.core.CoapServer) field.get(server)).getEndpoints();
  }

  private static long usedAfterGc(MemoryMXBean memory) throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
    }
    return memory.getHeapMemoryUsage().getUsed();
  }
}
