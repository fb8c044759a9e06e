package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the simulator's command line tells its user: usage errors, progress lines, the HELD line. */
class SimCliTest {

  /** Runs the command line in-process with stdout and stderr captured: {exit, out, err}. */
  private static String[] run(String... args) {
    PrintStream realOut = System.out;
    PrintStream realErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      exit = SimMain.run(args);
    } finally {
      System.setOut(realOut);
      System.setErr(realErr);
    }
    String o = out.toString(StandardCharsets.UTF_8);
    String e = err.toString(StandardCharsets.UTF_8);
    System.out.println(o);
    System.out.println(e);
    return new String[] {String.valueOf(exit), o, e};
  }

  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort(); // free again once closed: nothing listens there
    }
  }

  @Test
  void aProbeOptionWithoutApiIsAUsageError() throws Exception {
    int port = closedPort();
    for (String[] probe : List.of(new String[] {"--probe-devices", "3"}, new String[] {"--probe-device", "gas-117"},
        new String[] {"--probe-interval-ms", "2000"}, new String[] {"--probe-transport", "v5"})) {
      String[] r = run("load", "--devices", "2", "--rate", "10", "--duration", "3", "--drain", "1",
          "--mqtt", "tcp://127.0.0.1:" + port, probe[0], probe[1]);
      assertThat(r[0]).as("picocli usage error").isEqualTo("2");
      assertThat(r[2]).contains(probe[0] + " needs --api").contains("Usage:");
      assertThat(r[1]).as("nothing ran").doesNotContain("load:").doesNotContain("connected");
    }
  }

  /**
   * A value out of range is a usage error (exit 2, the message naming the option, then the usage,
   * on stderr) and nothing starts: {@code scenario --duration-min -3} used to run without end, and
   * {@code hold --devices 0} exited 1 like a failed run. Each case would hang (scenario) or connect
   * (load, hold: to a closed port, exit 1) if the value were let through.
   */
  @Test
  @org.junit.jupiter.api.Timeout(120)
  void outOfRangeValuesAreUsageErrorsAndNothingStarts() throws Exception {
    int port = closedPort();
    String mqtt = "tcp://127.0.0.1:" + port;
    String[] scenario = {"scenario", "dongnan", "--timeline", ScenarioSpecTest.SCENARIO.toString(),
        "--site", ScenarioSpecTest.SITE.toString(), "--mqtt", mqtt, "--coap", "coap://127.0.0.1:" + port};
    String[] load = {"load", "--devices", "2", "--rate", "10", "--duration", "2", "--warmup", "0", "--drain", "1",
        "--mqtt", mqtt};
    String[] hold = {"hold", "--devices", "2", "--hold-s", "1", "--mqtt", mqtt};
    List<String[]> cases = List.of(
        plus(scenario, "--duration-min", "-3"), plus(scenario, "--duration-min", "NaN"),
        plus(scenario, "--duration-min", "Infinity"), plus(scenario, "--speed", "0"), plus(scenario, "--speed", "-60"),
        plus(scenario, "--speed", "1e-300"), plus(scenario, "--speed", "0.0009"), plus(scenario, "--speed", "1e9"),
        plus(scenario, "--duration-min", "1e300"), plus(load, "--rate", "1e-9"), plus(load, "--rate", "0.009"),
        plus(load, "--rate", "0.1"),
        plus(scenario, "--fault", "bogus"), plus(scenario, "--fault", "garbage@-1"), plus(scenario, "--fault", "garbage@x"),
        plus(load, "--duration", "-3"), plus(load, "--duration", "0"), plus(load, "--rate", "0"),
        plus(load, "--rate", "-5"), plus(load, "--rate", "NaN"), plus(load, "--rate", "Infinity"),
        plus(load, "--devices", "0"), plus(load, "--devices", "-1"), plus(load, "--qos", "3"),
        plus(load, "--payload-bytes", "-1"), plus(load, "--drain", "-1"), plus(load, "--keepalive", "0"),
        plus(load, "--keepalive", "70000"), plus(load, "--io-threads", "0"), plus(load, "--max-in-flight", "0"),
        plus(load, "--warmup", "-1"), plus(load, "--connect-concurrency", "0"), plus(load, "--burst", "0"),
        plus(load, "--mix", "1:x:0"), plus(load, "--mix", "0:0:0"), plus(load, "--mqtt-client", "mosquitto"),
        plus(load, "--io-transport", "zigbee"), plus(hold, "--io-transport", "kqueue"),
        plus(load, "--api", "http://127.0.0.1:" + port, "--probe-interval", "0"),
        plus(load, "--api", "http://127.0.0.1:" + port, "--probe-interval-ms", "-2000"),
        plus(load, "--api", "http://127.0.0.1:" + port, "--probe-devices", "0"),
        plus(load, "--api", "http://127.0.0.1:" + port, "--probe-transport", "zigbee"),
        plus(hold, "--devices", "0"), plus(hold, "--hold-s", "-1"), plus(hold, "--keepalive", "-1"),
        plus(hold, "--io-threads", "0"), plus(hold, "--connect-concurrency", "0"),
        plus(hold, "--connect-budget-s", "0"), plus(hold, "--mqtt-version", "coap"));
    for (String[] c : cases) {
      String option = c[c.length - 2];
      String[] r = run(c);
      String what = String.join(" ", c);
      assertThat(r[0]).as("exit code of %s%n%s", what, r[2]).isEqualTo(String.valueOf(SimMain.EXIT_USAGE)).isEqualTo("2");
      assertThat(r[2]).as(what).contains(option).contains("Usage: safegrid-sim").doesNotContain("error:");
      assertThat(r[1]).as("nothing ran: %s", what).isEmpty();
    }
  }

  private static String[] plus(String[] base, String... more) {
    String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  /** Every command answers --help / -h with its usage, and -V / --version with the program's version. */
  @Test
  void everyCommandHasHelpAndVersion() {
    for (String command : List.of("scenario", "load", "hold")) {
      for (String help : List.of("--help", "-h")) {
        String[] r = run(command, help);
        assertThat(r[0]).as("%s %s", command, help).isEqualTo("0");
        assertThat(r[1]).as("%s %s", command, help).contains("Usage: safegrid-sim " + command).contains("--help");
        assertThat(r[2]).isEmpty();
      }
      for (String version : List.of("--version", "-V")) {
        String[] r = run(command, version);
        assertThat(r[0]).as("%s %s", command, version).isEqualTo("0");
        assertThat(r[1].strip()).isEqualTo(SimMain.VERSION).isEqualTo("SafeGrid device simulator 0.1");
      }
    }
    // hold's MQTT version is --mqtt-version (it was --version, which then meant no program version)
    assertThat(run("hold", "--help")[1]).contains("--mqtt-version=<mqttVersion>").contains("MQTT version: v3 (3.1.1) or v5");
  }

  /** The help shows each option's default, so that a bare {@code sim load} is predictable. */
  @Test
  void theHelpShowsTheDefaults() {
    String load = run("load", "--help")[1].replaceAll("\\s+", " ");
    assertThat(load).contains("--devices=<devices> simulated devices Default: 100",
        "--rate=<rate> target messages per second, all devices Default: 1000",
        "--duration=<duration> seconds of publishing Default: 30",
        "--qos=<qos> MQTT QoS 0..2 (CoAP: 0 = NON, else CON) Default: 1",
        "--mqtt=<mqtt> MQTT gateway or broker Default: tcp://127.0.0.1:1883",
        "Default: 1:0:0", "Default: demo-viewer-token", "Default: 16");
    assertThat(load.replace(" ", "")).contains("e.g.1:1:0").doesNotContain("Default:[]");
    assertThat(load).contains("these are devices, not alarm ids");
    String hold = run("hold", "--help")[1].replaceAll("\\s+", " ");
    assertThat(hold).contains("--devices=<devices> devices to connect Default: 1000",
        "--hold-s=<holdS> seconds to stay connected (0 = until stopped) Default: 30", "Default: v3");
    assertThat(run("scenario", "--help")[1].replaceAll("\\s+", " "))
        .contains("--site=<site> site file with the devices Default: config/dongnan.yaml");
  }

  /**
   * Dead CoAP devices (nothing listens at --coap): their unanswered messages count as failed during
   * the run, in the progress lines, not only in the summary at the end.
   */
  @Test
  void deadCoapDevicesShowAsFailedInTheProgressLines() throws Exception {
    int port = closedPort();
    String[] r = run("load", "--devices", "2", "--rate", "10", "--qos", "1", "--duration", "4", "--warmup", "0",
        "--drain", "1", "--mix", "0:0:1", "--coap", "coap://127.0.0.1:" + port);
    assertThat(r[0]).as("nothing acknowledged").isEqualTo("1");
    Matcher m = Pattern.compile("(?m)^\\[\\s+3s\\] sent (\\d+) acked 0 .* refused 0 failed (\\d+) \\(coap (\\d+)\\)")
        .matcher(r[1]);
    assertThat(m.find()).as("progress line of second 3 with the CoAP failed count:%n%s", r[1]).isTrue();
    assertThat(Long.parseLong(m.group(2))).as("failed by second 3").isPositive();
    assertThat(m.group(3)).isEqualTo(m.group(2));
    assertThat(r[1]).contains("refused 0, failed ");
  }

  /** Whether the process whose {@code /proc/PID/status} this is ignores SIGINT (bit 2 of {@code SigIgn}). */
  private static boolean sigintIgnored(Path status) throws IOException {
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("SigIgn:")) {
        return (Long.parseUnsignedLong(line.substring("SigIgn:".length()).strip(), 16) & 0x2L) != 0;
      }
    }
    return false;
  }

  /** Ctrl-C (SIGINT) on {@code sim hold}: the HELD line still comes, from the shutdown hook. */
  @Test
  void holdPrintsHeldOnSigint(@TempDir Path dir) throws Exception {
    // A build started as a background job of a non-interactive shell runs with SIGINT ignored
    // (SIG_IGN), the simulator JVM inherits that, and HotSpot then installs no SIGINT handler:
    // Ctrl-C would never reach it. Start it with SIGINT's default disposition (coreutils env), as
    // an interactive shell gives it, so the test checks Ctrl-C wherever the build runs.
    List<String> command = new ArrayList<>();
    if (sigintIgnored(Path.of("/proc/self/status"))) {
      command.addAll(List.of("env", "--default-signal=INT"));
    }
    command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), SimMain.class.getName(),
        "hold", "--devices", "5", "--hold-s", "0", "--io-threads", "1"));
    try (Mosquitto broker = new Mosquitto(dir)) {
      command.addAll(List.of("--mqtt", broker.uri()));
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      List<String> lines = new ArrayList<>();
      // never hang the build: whatever happens, the process is gone after 60 s
      java.util.concurrent.CompletableFuture.delayedExecutor(60, TimeUnit.SECONDS).execute(p::destroyForcibly);
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          lines.add(line);
          if (line.startsWith("READY ")) {
            assertThat(sigintIgnored(Path.of("/proc", String.valueOf(p.pid()), "status")))
                .as("the simulator must not run with SIGINT ignored, or Ctrl-C cannot stop it").isFalse();
            assertThat(new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor()).isZero();
          }
        }
      } finally {
        p.destroyForcibly();
      }
      assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
      assertThat(lines).as(String.join("\n", lines)).anyMatch(l -> l.startsWith("READY connected=5 acked=5 failed=0 "));
      assertThat(lines).as(String.join("\n", lines)).contains("HELD connected=5 of 5");
    }
  }
}
