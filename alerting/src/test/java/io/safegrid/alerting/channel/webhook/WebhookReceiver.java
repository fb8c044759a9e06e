package io.safegrid.alerting.channel.webhook;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A webhook receiver as a well-behaved integrator writes one (JDK HttpServer on loopback):
 * verifies the signature, de-duplicates by {@code Idempotency-Key}, answers 200. It can be told to
 * lose the acknowledgement of the next N requests (it processes them, then answers 500).
 */
final class WebhookReceiver implements AutoCloseable {
  record Request(String key, String body, boolean signatureValid) {}

  private final int port;
  private final String secret;
  private HttpServer server;
  final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
  /** Processed notifications by idempotency key: each key once. */
  final Map<String, String> processed = Collections.synchronizedMap(new LinkedHashMap<>());
  final AtomicInteger loseAcks = new AtomicInteger();

  WebhookReceiver(int port, String secret) {
    this.port = port;
    this.secret = secret;
  }

  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    server.createContext("/hook", ex -> {
      byte[] body;
      try (InputStream in = ex.getRequestBody()) {
        body = in.readAllBytes();
      }
      String key = ex.getRequestHeaders().getFirst("Idempotency-Key");
      boolean valid = Signatures.verify(secret, body, ex.getRequestHeaders().getFirst(Signatures.HEADER));
      requests.add(new Request(key, new String(body, StandardCharsets.UTF_8), valid));
      int status;
      if (!valid || key == null) {
        status = 401;
      } else {
        processed.putIfAbsent(key, new String(body, StandardCharsets.UTF_8));
        status = loseAcks.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? 500 : 200;
      }
      ex.sendResponseHeaders(status, -1);
      ex.close();
    });
    server.start();
  }

  void stop() {
    if (server != null) {
      server.stop(0);
      server = null;
    }
  }

  @Override
  public void close() {
    stop();
  }
}
