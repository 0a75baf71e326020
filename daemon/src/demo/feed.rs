//! What central sees: an MQTT subscriber ([`CentralFeed`]) on the demo's broker that receives
//! everything under a topic filter (the gateway's events, retained stock snapshots and status)
//! and hands each message over a channel, in the order the broker delivered them.
//!
//! It owns one rumqttc client and its event loop task, and also sends central's commands to
//! the gateway over it ([`CentralFeed::command`]). It never interprets a payload (that is
//! [`super::central`]).

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// How long [`CentralFeed::subscribe`] waits for the broker to acknowledge the subscription.
pub const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a connection error before the event loop reconnects.
const RECONNECT_DELAY: Duration = Duration::from_millis(200);

/// One message as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedMessage {
    /// Full topic.
    pub topic: String,
    /// Raw payload.
    pub payload: Vec<u8>,
    /// The retain flag as delivered (true for retained state sent on subscribe).
    pub retain: bool,
}

/// The subscriber could not get going.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The broker did not acknowledge the subscription in time.
    #[error("no subscription to {filter:?} on 127.0.0.1:{port} within {SUBSCRIBE_TIMEOUT:?}")]
    NotSubscribed {
        /// The broker's port.
        port: u16,
        /// The filter.
        filter: String,
    },
}

/// A running subscriber. Messages come out of [`CentralFeed::recv`]; [`CentralFeed::stop`]
/// disconnects.
#[derive(Debug)]
pub struct CentralFeed {
    client: AsyncClient,
    messages: mpsc::UnboundedReceiver<FeedMessage>,
    task: JoinHandle<()>,
}

impl CentralFeed {
    /// Connects to the broker at 127.0.0.1:`port` as `client_id`, subscribes to `filter` at
    /// QoS 1 and returns once the broker acknowledged the subscription.
    pub async fn subscribe(
        port: u16,
        client_id: &str,
        filter: &str,
    ) -> Result<CentralFeed, FeedError> {
        let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_clean_session(true)
            .set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut event_loop) = AsyncClient::new(options, 16);
        let (tx, messages) = mpsc::unbounded_channel();
        let (ready_tx, ready) = oneshot::channel();
        let resubscribe = client.clone();
        let owned_filter = filter.to_owned();
        let task = tokio::spawn(async move {
            let mut ready_tx = Some(ready_tx);
            loop {
                match event_loop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        // A clean session starts empty: (re)subscribe on every connection.
                        let _ = resubscribe.try_subscribe(owned_filter.clone(), QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(ready) = ready_tx.take() {
                            let _ = ready.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let message = FeedMessage {
                            topic: p.topic.clone(),
                            payload: p.payload.to_vec(),
                            retain: p.retain,
                        };
                        if tx.send(message).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(rumqttc::ConnectionError::RequestsDone) => return,
                    Err(e) => {
                        tracing::debug!("demo subscriber: {e}");
                        tokio::time::sleep(RECONNECT_DELAY).await;
                    }
                }
            }
        });
        match timeout(SUBSCRIBE_TIMEOUT, ready).await {
            Ok(Ok(())) => Ok(CentralFeed {
                client,
                messages,
                task,
            }),
            _ => {
                task.abort();
                Err(FeedError::NotSubscribed {
                    port,
                    filter: filter.to_owned(),
                })
            }
        }
    }

    /// Publishes a command (QoS 1) as central would. Queued on the client; a full queue or a
    /// stopped client is logged, not an error: the demo goes on.
    pub fn command(&self, topic: String, payload: Vec<u8>) {
        if let Err(e) = self
            .client
            .try_publish(topic, QoS::AtLeastOnce, false, payload)
        {
            tracing::warn!("demo central: command not sent: {e}");
        }
    }

    /// The next message; `None` once the subscriber stopped.
    pub async fn recv(&mut self) -> Option<FeedMessage> {
        self.messages.recv().await
    }

    /// A message already received, if any (never waits).
    pub fn try_recv(&mut self) -> Option<FeedMessage> {
        self.messages.try_recv().ok()
    }

    /// Disconnects cleanly (waiting at most a second) and ends the event loop task.
    pub async fn stop(self) {
        let CentralFeed {
            client,
            messages,
            mut task,
        } = self;
        drop(messages);
        let _ = client.try_disconnect();
        if timeout(Duration::from_secs(1), &mut task).await.is_err() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::broker::EmbeddedBroker;

    /// The embedded broker and the feed together: a retained message published before the
    /// subscription arrives flagged retained, a later one live, in order.
    #[tokio::test]
    async fn feed_receives_retained_then_live_messages_from_the_embedded_broker() {
        let broker = EmbeddedBroker::start().await.expect("broker");
        let mut options = MqttOptions::new("feed-test-publisher", "127.0.0.1", broker.port());
        options.set_clean_session(true);
        let (publisher, mut event_loop) = AsyncClient::new(options, 16);
        let (acked_tx, mut acked) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(event) = event_loop.poll().await {
                if let Event::Incoming(Packet::PubAck(_)) = event {
                    let _ = acked_tx.send(());
                }
            }
        });
        publisher
            .publish("demo/t/stock/a", QoS::AtLeastOnce, true, "kept")
            .await
            .expect("queue");
        timeout(Duration::from_secs(10), acked.recv())
            .await
            .expect("PUBACK within 10 s");

        let mut feed = CentralFeed::subscribe(broker.port(), "feed-test", "demo/t/#")
            .await
            .expect("subscribed");
        publisher
            .publish("demo/t/event/x", QoS::AtLeastOnce, false, "live")
            .await
            .expect("queue");
        let mut got = Vec::new();
        while got.len() < 2 {
            let m = timeout(Duration::from_secs(10), feed.recv())
                .await
                .expect("message within 10 s")
                .expect("feed open");
            got.push((
                m.topic,
                String::from_utf8(m.payload).expect("utf-8"),
                m.retain,
            ));
        }
        assert_eq!(
            got,
            [
                ("demo/t/stock/a".to_owned(), "kept".to_owned(), true),
                ("demo/t/event/x".to_owned(), "live".to_owned(), false),
            ]
        );
        feed.stop().await;
    }
}
