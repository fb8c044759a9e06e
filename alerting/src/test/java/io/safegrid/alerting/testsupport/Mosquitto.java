package io.safegrid.alerting.testsupport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real Mosquitto broker for one test: {@code /usr/sbin/mosquitto -c <config>} on a free loopback
 * port, anonymous allowed on 127.0.0.1 only. {@link #close()} stops it (and can be restarted on the
 * same port with {@link #start()}).
 */
public final class Mosquitto implements AutoCloseable {
  private final int port;
  private final Path dir;
  private Process process;

  private Mosquitto(int port, Path dir) {
    this.port = port;
    this.dir = dir;
  }

  /** Starts a broker on a free port. */
  public static Mosquitto start() throws IOException, InterruptedException {
    Mosquitto m = new Mosquitto(freePort(), Files.createTempDirectory("safegrid-mosquitto"));
    m.startProcess();
    return m;
  }

  /** Starts a stopped broker again on the same port. */
  public void restart() throws IOException, InterruptedException {
    startProcess();
  }

  private void startProcess() throws IOException, InterruptedException {
    Path conf = dir.resolve("mosquitto.conf");
    Files.writeString(conf, "listener " + port + " 127.0.0.1\nallow_anonymous true\npersistence false\n");
    process = new ProcessBuilder("/usr/sbin/mosquitto", "-c", conf.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("mosquitto exited: " + Files.readString(dir.resolve("mosquitto.log")));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        Thread.sleep(50);
      }
    }
    throw new IOException("mosquitto did not listen on " + port + " within 10 s");
  }

  /** {@code tcp://127.0.0.1:<port>}. */
  public String uri() {
    return "tcp://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** Stops the broker (SIGTERM, then SIGKILL after 5 s). */
  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A loopback port free right now. */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }
}
