/**
 * MQTT devices for load on Netty's MQTT codec: thousands of connections on one shared event loop
 * group (1-2 threads), no thread per device. {@link io.safegrid.sim.link.netty.NettyMqttClients}
 * owns the event loops and opens {@link io.safegrid.sim.link.netty.NettyMqttLink}s.
 */
package io.safegrid.sim.link.netty;
