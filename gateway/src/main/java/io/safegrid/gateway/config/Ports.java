package io.safegrid.gateway.config;

/**
 * Listening ports. 0 means "pick a free port" (the chosen port is logged).
 *
 * @param mqtt MQTT over TCP (default 1883; env SAFEGRID_MQTT_PORT)
 * @param coap CoAP over UDP (default 5683; env SAFEGRID_COAP_PORT)
 * @param coaps CoAP over DTLS with PSK (default 5684; env SAFEGRID_COAPS_PORT)
 * @param http dashboard and API (default 8080; env SAFEGRID_HTTP_PORT)
 */
public record Ports(int mqtt, int coap, int coaps, int http) {}
