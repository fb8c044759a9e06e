package io.safegrid.gateway.mqtt;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Hand-built MQTT packets on a raw socket, for hostile-input tests (never for the server). */
final class RawMqtt {

  private RawMqtt() {}

  /** Connects with MQTT 3.1.1 (level 4) or 5 and asserts CONNACK accepted. */
  static Socket connect(int port, String user, String password, int keepalive) throws IOException {
    return connect(port, user, password, keepalive, 4);
  }

  static Socket connect(int port, String user, String password, int keepalive, int level) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(10_000);
    s.getOutputStream().write(connectPacket(user, password, keepalive, level));
    byte[] ack = readPacket(s.getInputStream());
    int code = level == 5 ? ack[3] & 0xFF : ack[3] & 0xFF;
    if ((ack[0] & 0xFF) != 0x20 || code != 0) {
      s.close();
      throw new IOException("CONNACK refused: " + code);
    }
    return s;
  }

  static byte[] connectPacket(String user, String password, int keepalive, int level) {
    return connectPacket(user, password, keepalive, level, "raw-" + user);
  }

  static byte[] connectPacket(String user, String password, int keepalive, int level, String clientId) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    writeString(body, "MQTT");
    body.write(level);
    body.write(0xC2); // username, password, clean session
    body.write(keepalive >> 8);
    body.write(keepalive & 0xFF);
    if (level == 5) {
      body.write(0); // no properties
    }
    writeString(body, clientId);
    writeString(body, user);
    writeString(body, password);
    return packet(0x10, body.toByteArray());
  }

  /** A PUBLISH; {@code topicBytes} raw so tests can send invalid UTF-8. */
  static byte[] publish(byte[] topicBytes, int qos, int packetId, byte[] payload, boolean v5) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(topicBytes.length >> 8);
    body.write(topicBytes.length & 0xFF);
    body.writeBytes(topicBytes);
    if (qos > 0) {
      body.write(packetId >> 8);
      body.write(packetId & 0xFF);
    }
    if (v5) {
      body.write(0);
    }
    body.writeBytes(payload);
    return packet(0x30 | (qos << 1), body.toByteArray());
  }

  static byte[] publish(String topic, int qos, int packetId, String payload) {
    return publish(topic.getBytes(StandardCharsets.UTF_8), qos, packetId, payload.getBytes(StandardCharsets.UTF_8), false);
  }

  static byte[] packet(int firstByte, byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(firstByte);
    out.writeBytes(remainingLength(body.length));
    out.writeBytes(body);
    return out.toByteArray();
  }

  static byte[] remainingLength(int length) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    do {
      int digit = length % 128;
      length /= 128;
      if (length > 0) {
        digit |= 0x80;
      }
      out.write(digit);
    } while (length > 0);
    return out.toByteArray();
  }

  private static void writeString(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.write(b.length >> 8);
    out.write(b.length & 0xFF);
    out.writeBytes(b);
  }

  /** Reads one whole packet (fixed header included). */
  static byte[] readPacket(InputStream in) throws IOException {
    DataInputStream d = new DataInputStream(in);
    int first = d.readUnsignedByte();
    int length = 0;
    int multiplier = 1;
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    header.write(first);
    int digit;
    do {
      digit = d.readUnsignedByte();
      header.write(digit);
      length += (digit & 127) * multiplier;
      multiplier *= 128;
    } while ((digit & 128) != 0);
    byte[] body = new byte[length];
    d.readFully(body);
    header.writeBytes(body);
    return header.toByteArray();
  }

  /**
   * Waits for the server to close: returns the bytes received until EOF (e.g. a DISCONNECT), or
   * throws if the socket is still open after the timeout.
   */
  static byte[] readUntilClosed(Socket s, int timeoutMillis) throws IOException {
    s.setSoTimeout(timeoutMillis);
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      int n;
      while ((n = s.getInputStream().read(buf)) >= 0) {
        got.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("connection still open after " + timeoutMillis + " ms; got " + got.size() + " bytes");
    } catch (IOException e) {
      // reset by peer: closed too
    }
    return got.toByteArray();
  }
}
