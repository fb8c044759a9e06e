package io.safegrid.alerting.channel.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SignaturesTest {
  @Test
  void matchesTheRfc4231TestCase2() {
    // RFC 4231 4.3: key "Jefe", data "what do ya want for nothing?"
    byte[] body = "what do ya want for nothing?".getBytes(StandardCharsets.UTF_8);
    String sig = Signatures.sign("Jefe", body);
    assertThat(sig).isEqualTo("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assertThat(Signatures.verify("Jefe", body, sig)).isTrue();
    assertThat(Signatures.verify("jefe", body, sig)).isFalse();
    assertThat(Signatures.verify("Jefe", "what do ya want for nothing!".getBytes(StandardCharsets.UTF_8), sig)).isFalse();
    assertThat(Signatures.verify("Jefe", body, null)).isFalse();
  }
}
