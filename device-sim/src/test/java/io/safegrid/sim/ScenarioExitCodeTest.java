package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class ScenarioExitCodeTest {

  @Test
  void aScenarioOfWhichNothingWasAcknowledgedExitsNonZero() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort(); // free again once closed: nothing listens there
    }
    int exit = SimMain.run("scenario", "dongnan", "--timeline", ScenarioSpecTest.SCENARIO.toString(),
        "--speed", "600", "--duration-min", "1",
        "--site", ScenarioSpecTest.SITE.toString(),
        "--mqtt", "tcp://127.0.0.1:" + closedPort, "--coap", "coap://127.0.0.1:" + closedPort);
    assertThat(exit).isEqualTo(1);
  }
}
