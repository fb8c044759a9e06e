package io.safegrid.sim;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A real Mosquitto broker on a free loopback port for the duration of a test: anonymous, or with
 * a password file ({@code mosquitto_passwd}) when users are given.
 */
final class Mosquitto implements AutoCloseable {

  final int port;
  private final Process process;

  Mosquitto(Path dir) throws IOException, InterruptedException {
    this(dir, Map.of());
  }

  /** @param users user name -> password; empty for anonymous access */
  Mosquitto(Path dir, Map<String, String> users) throws IOException, InterruptedException {
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    StringBuilder conf = new StringBuilder("listener " + port + " 127.0.0.1\n"
        + "max_inflight_messages 100\nmax_queued_messages 100000\npersistence false\n");
    if (users.isEmpty()) {
      conf.append("allow_anonymous true\n");
    } else {
      Path passwords = dir.resolve("passwords");
      StringBuilder plain = new StringBuilder();
      users.forEach((user, password) -> plain.append(user).append(':').append(password).append('\n'));
      Files.writeString(passwords, plain);
      // one process hashes the whole file in place (-U), however many users
      Process p = new ProcessBuilder("mosquitto_passwd", "-U", passwords.toString()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (p.waitFor() != 0) {
        throw new IllegalStateException("mosquitto_passwd failed: " + out);
      }
      // the test's temporary directory is private: keep the broker's user (it drops root
      // privileges to user mosquitto by default and could not read the file then)
      conf.append("allow_anonymous false\npassword_file ").append(passwords).append('\n')
          .append("user ").append(System.getProperty("user.name")).append('\n');
    }
    Path confFile = dir.resolve("mosquitto.conf");
    Files.writeString(confFile, conf);
    process = new ProcessBuilder("mosquitto", "-c", confFile.toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("mosquitto.log").toFile())
        .start();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (true) {
      try (Socket ignored = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException notYet) {
        if (System.nanoTime() > deadline || !process.isAlive()) {
          close();
          throw new IllegalStateException("mosquitto did not start: " + Files.readString(dir.resolve("mosquitto.log")));
        }
        Thread.sleep(50);
      }
    }
  }

  String uri() {
    return "tcp://127.0.0.1:" + port;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
