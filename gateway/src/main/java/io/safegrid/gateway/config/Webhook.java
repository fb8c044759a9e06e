package io.safegrid.gateway.config;

import java.util.List;

/**
 * An HTTP endpoint that receives alarm notifications (JSON POST, signed).
 *
 * @param name short name, {@code [a-z0-9][a-z0-9-]{0,63}}
 * @param url the http(s) URL
 * @param secret HMAC-SHA256 key of the signature header (required)
 * @param recipients recipient ids it carries notifications for; never null, empty = all
 */
public record Webhook(String name, String url, String secret, List<String> recipients) {
  public Webhook {
    recipients = recipients == null ? List.of() : List.copyOf(recipients);
  }

  @Override
  public String toString() {
    return "Webhook[name=" + name + ", url=" + url + ", recipients=" + recipients + "]";
  }
}
