package io.safegrid.alerting.channel.webhook;

import io.safegrid.alerting.outbox.Channel;
import io.safegrid.alerting.outbox.DeliveryException;
import io.safegrid.alerting.outbox.OutboxMessage;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/**
 * POSTs notifications as JSON to a webhook with {@link HttpClient}: headers {@code Content-Type:
 * application/json}, {@code Idempotency-Key: <key>} (the same on every retry: receivers
 * de-duplicate by it) and {@code X-SafeGrid-Signature: sha256=<hex>} ({@link Signatures}). A 2xx
 * answer is the acknowledgement; anything else (status, refused connection, timeout) is a failure
 * that the outbox retries with exponential backoff.
 */
public final class WebhookChannel implements Channel {
  private final WebhookConfig config;
  private final HttpClient http;

  public WebhookChannel(WebhookConfig config) {
    this.config = config;
    this.http = HttpClient.newBuilder().connectTimeout(config.timeout())
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  @Override
  public String name() {
    return config.channelName();
  }

  /** The webhook's settings. */
  public WebhookConfig config() {
    return config;
  }

  @Override
  public void send(OutboxMessage m) throws DeliveryException {
    byte[] body = m.payload().getBytes(StandardCharsets.UTF_8);
    HttpRequest req = HttpRequest.newBuilder(config.url())
        .timeout(config.timeout())
        .header("Content-Type", "application/json; charset=utf-8")
        .header("Idempotency-Key", m.idempotencyKey())
        .header(Signatures.HEADER, Signatures.sign(config.secret(), body))
        .header("User-Agent", "SafeGrid-alerting")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    HttpResponse<Void> res;
    try {
      res = http.send(req, HttpResponse.BodyHandlers.discarding());
    } catch (IOException e) {
      throw new DeliveryException("POST " + config.url() + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DeliveryException("POST " + config.url() + " interrupted", e);
    }
    if (res.statusCode() / 100 != 2) {
      throw new DeliveryException("POST " + config.url() + " answered HTTP " + res.statusCode());
    }
  }
}
