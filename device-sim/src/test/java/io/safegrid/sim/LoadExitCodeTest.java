package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** A load test that measured nothing must say so in its exit code (scripts and bench/run read it). */
class LoadExitCodeTest {

  @Test
  void aLoadOfWhichNothingWasAcknowledgedExitsOne() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort(); // free again once closed: nothing listens there
    }
    int exit = SimMain.run("load", "--devices", "5", "--rate", "50", "--qos", "1", "--duration", "3",
        "--drain", "1", "--mqtt", "tcp://127.0.0.1:" + closedPort, "--coap", "coap://127.0.0.1:" + closedPort);
    assertThat(exit).isEqualTo(1);
  }
}
