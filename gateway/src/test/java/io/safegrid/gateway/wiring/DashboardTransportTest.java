package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.safegrid.dashboard.DashboardServer;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's Vert.x (live stream, API) runs on Netty's native epoll transport where the
 * gateway ships its library (linux-x86_64), as the MQTT server does.
 */
class DashboardTransportTest {

  @Test
  void theDashboardsVertxIsOnEpollOnLinuxX64() {
    boolean linuxX64 = System.getProperty("os.name").startsWith("Linux")
        && System.getProperty("os.arch").matches("amd64|x86_64");
    Vertx vertx = DashboardServer.newVertx(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    try {
      assertThat(vertx.isNativeTransportEnabled())
          .as("cause if not: %s", vertx.unavailableNativeTransportCause()).isEqualTo(linuxX64);
    } finally {
      vertx.close().await();
    }
  }
}
