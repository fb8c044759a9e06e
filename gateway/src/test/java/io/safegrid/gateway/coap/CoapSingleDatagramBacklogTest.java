package io.safegrid.gateway.coap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.config.ShippedConfig;
import io.safegrid.gateway.config.StorageConfig;
import io.safegrid.gateway.wiring.Gateway;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * newcomer5 F2: an NB-IoT gas alarm wakes up and posts its cached backlog (40 records, the last at
 * 60 %LEL) as ONE plain CoAP datagram of 3-4 KB, no block1. Californium's default UDP datagram
 * size (2,048 bytes) used to drop it without an answer, a count or a log line: no readings, no
 * alarm. The shipped gateway must answer 2.04, store all 40 readings and raise the gas alarm.
 */
class CoapSingleDatagramBacklogTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  static final int RECORDS = 40;

  @Test
  void aBacklogInOneDatagramOver2KiBIsStoredAndRaisesTheAlarm(@TempDir Path spool) throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    LoadedConfig config = new LoadedConfig(shipped.file(), shipped.site(), shipped.gateway()
        .withStorage(new StorageConfig(spool.toString(), 64L << 20, 5000, 10))
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, "safegrid-test", "safegrid/notify/", null, null)));
    try (Gateway g = Gateway.start(config)) {
      long first = System.currentTimeMillis() - RECORDS * 1_000L;
      StringBuilder body = new StringBuilder("[");
      for (int i = 0; i < RECORDS; i++) {
        double lel = i == RECORDS - 1 ? 60.0 : 1.0 + (i % 5) * 0.5;
        body.append(i == 0 ? "" : ",")
            .append("{\"ts\":").append(first + i * 1_000L)
            .append(",\"seq\":").append(1000 + i)
            .append(",\"values\":{\"gas_lel\":").append(lel)
            .append(",\"battery_pct\":87,\"supply_v\":3.61}}");
      }
      body.append(']');
      Request request = CoapClients.post(body.toString(), true, "demo-gas-024");
      request.getOptions().setUriPath("/devices/gas-024/telemetry");
      request.setMID(1);
      request.setToken(new byte[] {1, 2, 3, 4});
      int datagram = new UdpDataSerializer().getByteArray(request).length;
      assertThat(datagram).as("one datagram, 3-4 KB, well over Californium's default 2,048")
          .isBetween(3_000, 4_096);

      Response response;
      try (RawCoapDevice device = new RawCoapDevice(g.ports().coap())) {
        response = device.exchange(request);
      }
      assertThat(response).as("an answer to a " + datagram + "-byte datagram").isNotNull();
      assertThat(response.getCode()).isEqualTo(ResponseCode.CHANGED);

      try (Connection c = db.dataSource().getConnection();
          PreparedStatement ps = c.prepareStatement(
              "SELECT count(*), max(value) FROM readings WHERE device_id = 'gas-024' AND metric = 'gas_lel'")) {
        ResultSet rs = ps.executeQuery();
        rs.next();
        assertThat(rs.getLong(1)).as("every record of the backlog").isEqualTo(RECORDS);
        assertThat(rs.getDouble(2)).isEqualTo(60.0);
      }

      HttpClient http = HttpClient.newHttpClient();
      HttpRequest alarms = HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + g.ports().http() + "/api/alarms?state=active_unacked"))
          .header("Authorization", "Bearer demo-officer-token").build();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
          assertThat(http.send(alarms, HttpResponse.BodyHandlers.ofString()).body())
              .contains("gas-024").contains("gas-lel"));
    }
  }
}
