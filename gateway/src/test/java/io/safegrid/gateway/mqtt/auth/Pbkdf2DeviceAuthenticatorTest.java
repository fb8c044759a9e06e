package io.safegrid.gateway.mqtt.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class Pbkdf2DeviceAuthenticatorTest {

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void textFormRoundTripsAndNeverHoldsTheSecret() {
    SecretHash h = SecretHash.derive("demo-gas-001");
    String text = h.format();
    assertThat(text).startsWith("pbkdf2-sha256$10000$").doesNotContain("demo-gas-001");
    SecretHash back = SecretHash.parse(text);
    assertThat(back.matches(b("demo-gas-001"))).isTrue();
    assertThat(back.matches(b("demo-gas-002"))).isFalse();
    assertThat(back.matches(new byte[] {(byte) 0xC3, 0x28})).isFalse();
    assertThat(SecretHash.derive("x").salt()).isNotEqualTo(SecretHash.derive("x").salt());
    assertThatThrownBy(() -> SecretHash.parse("md5$1$a$b")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void outcomes() {
    AtomicLong now = new AtomicLong(0);
    var auth = new Pbkdf2DeviceAuthenticator(
        Map.of("gas-001", SecretHash.derive("s1"), "gas-002", SecretHash.derive("s2")), Set.of("gas-002"), now::get);
    assertThat(auth.authenticate("gas-001", b("s1"))).isEqualTo(AuthOutcome.OK);
    assertThat(auth.authenticate("gas-001", b("s2"))).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    assertThat(auth.authenticate("gas-001", null)).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    assertThat(auth.authenticate(null, b("s1"))).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    assertThat(auth.authenticate("gas-009", b("s1"))).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    assertThat(auth.authenticate("gas-002", b("s2"))).isEqualTo(AuthOutcome.NOT_AUTHORIZED);
    assertThat(auth.authenticate("gas-002", b("bad"))).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
  }

  @Test
  void aCachedSuccessIsFastAndAWrongSecretIsNeverCached() {
    var auth = Pbkdf2DeviceAuthenticator.fromSecrets(Map.of("gas-001", "s1"));
    assertThat(auth.authenticate("gas-001", b("s1"))).isEqualTo(AuthOutcome.OK);
    long t0 = System.nanoTime();
    for (int i = 0; i < 200; i++) {
      assertThat(auth.authenticate("gas-001", b("s1"))).isEqualTo(AuthOutcome.OK);
    }
    long cachedNanos = (System.nanoTime() - t0) / 200;
    long t1 = System.nanoTime();
    assertThat(auth.authenticate("gas-001", b("s1x"))).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    long failedNanos = System.nanoTime() - t1;
    assertThat(cachedNanos).isLessThan(failedNanos);
  }
}
