package io.safegrid.gateway.config;

/**
 * The {@code site:} section.
 *
 * @param id site id, e.g. {@code dongnan}
 * @param name display name
 */
public record SiteHeader(String id, String name) {}
