package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sim hold} against a real Mosquitto: every device connects, publishes one QoS 1 reading,
 * and stays connected through a hold three times its keepalive (only PINGREQ keeps it).
 */
class HoldAgainstMosquittoTest {

  @Test
  void holdsEveryDeviceConnectedWithKeepalive(@TempDir Path dir) throws Exception {
    try (Mosquitto broker = new Mosquitto(dir)) {
      PrintStream realOut = System.out;
      ByteArrayOutputStream captured = new ByteArrayOutputStream();
      int exit;
      try {
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        exit = SimMain.run("hold", "--devices", "300", "--hold-s", "4", "--keepalive", "1",
            "--io-threads", "1", "--mqtt", broker.uri());
      } finally {
        System.setOut(realOut);
      }
      String out = captured.toString(StandardCharsets.UTF_8);
      System.out.println(out);
      assertThat(exit).isZero();
      assertThat(out).containsPattern("(?m)^READY connected=300 acked=300 failed=0 connect_s=[0-9.]+$");
      assertThat(out).contains("HELD connected=300 of 300");
    }
  }

  @Test
  void nothingListeningExitsOne() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    PrintStream realOut = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      exit = SimMain.run("hold", "--devices", "3", "--hold-s", "1", "--mqtt", "tcp://127.0.0.1:" + port);
    } finally {
      System.setOut(realOut);
    }
    assertThat(exit).isEqualTo(1);
    assertThat(captured.toString(StandardCharsets.UTF_8)).contains("READY connected=0 acked=0 failed=3");
  }
}
