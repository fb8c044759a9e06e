package io.safegrid.alerting.channel.webhook;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One HTTP webhook (e.g. the fire brigade's dispatch system, a duty-officer chat bot).
 *
 * @param name short name, {@code [a-z0-9-]+}; the outbox channel is {@code webhook:<name>}
 * @param url where to POST
 * @param secret HMAC-SHA256 key of the {@code X-SafeGrid-Signature} header
 * @param recipients recipient group ids it carries notifications for; empty = all
 * @param timeout connect and response timeout; default 10 s
 */
public record WebhookConfig(String name, URI url, String secret, Set<String> recipients, Duration timeout) {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");

  /**
   * @throws IllegalArgumentException for a bad name, a URL that is not http(s), or an empty secret
   */
  public WebhookConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(url, "url");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("webhook name '" + name + "' must match [a-z0-9][a-z0-9-]{0,63}");
    }
    if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
      throw new IllegalArgumentException("webhook " + name + ": url must be http or https: " + url);
    }
    if (secret == null || secret.isEmpty()) {
      throw new IllegalArgumentException("webhook " + name + ": a secret is required (HMAC signature)");
    }
    recipients = recipients == null ? Set.of() : Set.copyOf(recipients);
    timeout = timeout == null ? Duration.ofSeconds(10) : timeout;
  }

  /** The outbox channel name, {@code webhook:<name>}. */
  public String channelName() {
    return "webhook:" + name;
  }

  /** True when this webhook carries notifications for the recipient. */
  public boolean carries(String recipientId) {
    return recipients.isEmpty() || recipients.contains(recipientId);
  }
}
