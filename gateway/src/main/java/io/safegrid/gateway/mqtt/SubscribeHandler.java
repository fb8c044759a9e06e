package io.safegrid.gateway.mqtt;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttReasonCodes;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttSubAckPayload;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.handler.codec.mqtt.MqttUnsubAckMessage;
import io.netty.handler.codec.mqtt.MqttUnsubAckPayload;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SUBSCRIBE / UNSUBSCRIBE with the topic ACL: a device may subscribe only to {@code
 * devices/{its id}/commands}, granted at most QoS 1; any other filter (wildcards included) is
 * refused in the SUBACK, 0x80 on MQTT 3.1.1 and 0x87 not authorized on MQTT 5, reject {@code
 * acl_subscribe}. A SUBSCRIBE or UNSUBSCRIBE without any filter is a protocol violation (MQTT
 * 3.1.1 3.8.3-3, 3.10.3-2) and closes.
 */
final class SubscribeHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(SubscribeHandler.class);

  private final MqttMetrics metrics;

  SubscribeHandler(MqttMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    MqttMessage m = (MqttMessage) msg;
    Session session = Session.of(ctx.channel());
    if (m.fixedHeader().messageType() == MqttMessageType.SUBSCRIBE) {
      subscribe(ctx, session, (MqttSubscribeMessage) m);
    } else if (m.fixedHeader().messageType() == MqttMessageType.UNSUBSCRIBE) {
      unsubscribe(ctx, session, (MqttUnsubscribeMessage) m);
    } else {
      ctx.fireChannelRead(msg);
    }
  }

  private void subscribe(ChannelHandlerContext ctx, Session session, MqttSubscribeMessage m) {
    List<MqttTopicSubscription> subs = m.payload().topicSubscriptions();
    if (subs.isEmpty()) {
      metrics.reject("protocol_error");
      session.disconnect(PresenceEvent.Reason.PROTOCOL_ERROR, MqttReasonCodes.Disconnect.PROTOCOL_ERROR);
      return;
    }
    int[] codes = new int[subs.size()];
    for (int i = 0; i < codes.length; i++) {
      MqttTopicSubscription sub = subs.get(i);
      if (TopicAcl.maySubscribe(session.deviceId, sub.topicFilter())) {
        session.subscriptions.add(sub.topicFilter());
        codes[i] = Math.min(sub.qualityOfService().value(), MqttQoS.AT_LEAST_ONCE.value());
      } else {
        metrics.reject("acl_subscribe");
        log.info("device {}: SUBSCRIBE to {} refused", session.deviceId, sub.topicFilter());
        codes[i] = session.v5() ? MqttReasonCodes.SubAck.NOT_AUTHORIZED.byteValue() & 0xFF : 0x80;
      }
    }
    int packetId = m.idAndPropertiesVariableHeader().messageId();
    ctx.writeAndFlush(
        new MqttSubAckMessage(
            new MqttFixedHeader(MqttMessageType.SUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
            new MqttMessageIdAndPropertiesVariableHeader(packetId, MqttProperties.NO_PROPERTIES),
            new MqttSubAckPayload(codes)));
  }

  private void unsubscribe(ChannelHandlerContext ctx, Session session, MqttUnsubscribeMessage m) {
    List<String> topics = m.payload().topics();
    if (topics.isEmpty()) {
      metrics.reject("protocol_error");
      session.disconnect(PresenceEvent.Reason.PROTOCOL_ERROR, MqttReasonCodes.Disconnect.PROTOCOL_ERROR);
      return;
    }
    List<Short> codes = new ArrayList<>();
    for (String topic : topics) {
      codes.add((short) ((session.subscriptions.remove(topic)
          ? MqttReasonCodes.UnsubAck.SUCCESS.byteValue()
          : MqttReasonCodes.UnsubAck.NO_SUBSCRIPTION_EXISTED.byteValue()) & 0xFF));
    }
    int packetId = m.idAndPropertiesVariableHeader().messageId();
    ctx.writeAndFlush(
        new MqttUnsubAckMessage(
            new MqttFixedHeader(MqttMessageType.UNSUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
            session.v5()
                ? new MqttMessageIdAndPropertiesVariableHeader(packetId, MqttProperties.NO_PROPERTIES)
                : MqttMessageIdVariableHeader.from(packetId),
            session.v5() ? new MqttUnsubAckPayload(codes) : null));
  }
}
