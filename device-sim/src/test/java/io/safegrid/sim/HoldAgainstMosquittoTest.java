package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sim hold} against a real Mosquitto: every device connects, publishes one QoS 1 reading,
 * and stays connected through a hold longer than the broker's keepalive timeout (only PINGREQ
 * keeps it).
 *
 * <p>The keepalive is 4 s, not 1 s: Mosquitto counts whole seconds and drops a client silent for
 * more than keepalive x 3/2 seconds (integer: 1 s for a keepalive of 1 s, so a device pinging after
 * 1 s of writer idle had between 0 and 1 s of slack, and a loaded machine that delayed one of the
 * 300 devices' PINGREQs a little dropped it: "HELD connected=226 of 300"). With 4 s the broker
 * waits more than 6 s, 2-3 s of slack after each PINGREQ; the hold (9 s) is still past the
 * broker's timeout, so a device that did not ping would be dropped (and, with nothing to read for
 * twice the keepalive, drop the connection itself).
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
        exit = SimMain.run("hold", "--devices", "300", "--hold-s", "9", "--keepalive", "4",
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

  /** With nothing connected there is nothing to hold: exit 1 at once, also with --hold-s 0 (until stopped). */
  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
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
      exit = SimMain.run("hold", "--devices", "3", "--hold-s", "0", "--mqtt", "tcp://127.0.0.1:" + port);
    } finally {
      System.setOut(realOut);
    }
    assertThat(exit).isEqualTo(1);
    assertThat(captured.toString(StandardCharsets.UTF_8)).contains("READY connected=0 acked=0 failed=3",
        "HELD connected=0 of 3");
  }
}
