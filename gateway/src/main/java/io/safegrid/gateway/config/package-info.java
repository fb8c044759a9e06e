/**
 * Loads the gateway's YAML configuration ({@code config/dongnan.yaml} by default) with Jackson
 * into the site model ({@link io.safegrid.site.Site}) and {@link
 * io.safegrid.gateway.config.GatewayConfig}, applies the environment overrides of the public
 * contract, and validates. Every error is a {@link io.safegrid.gateway.config.ConfigException}
 * naming the file, the line and the field.
 */
package io.safegrid.gateway.config;
