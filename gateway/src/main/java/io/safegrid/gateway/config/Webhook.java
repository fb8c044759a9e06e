package io.safegrid.gateway.config;

/**
 * An HTTP endpoint that receives alarm notifications (JSON POST).
 *
 * @param name display name
 * @param url the URL
 */
public record Webhook(String name, String url) {}
