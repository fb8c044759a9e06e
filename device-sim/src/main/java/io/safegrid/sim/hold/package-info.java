/** {@code sim hold}: many MQTT devices connected and idle (keepalive only), for memory figures. */
package io.safegrid.sim.hold;
