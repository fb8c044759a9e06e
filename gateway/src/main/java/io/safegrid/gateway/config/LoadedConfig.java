package io.safegrid.gateway.config;

import io.safegrid.site.Site;
import java.nio.file.Path;

/**
 * A loaded, validated configuration.
 *
 * @param file the file it came from
 * @param site the site (grid, responders, devices, rule parameters)
 * @param gateway the gateway settings, environment overrides applied
 */
public record LoadedConfig(Path file, Site site, GatewayConfig gateway) {}
