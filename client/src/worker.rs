//! A worker: one ARI application name with one event WebSocket on every node, read as one
//! stream of events tagged with the node they came from.

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::{Ari, Event, Events};

/// What a worker reads: an event from node `node` (an index into its nodes), the news that its
/// WebSocket to that node is gone (the node stopped or broke the connection), or that it is
/// back (reopened: the application is registered there again).
#[derive(Debug)]
pub enum Incoming {
    Event { node: usize, event: Event },
    Gone { node: usize, why: String },
    Back { node: usize },
}

/// How often a gone node's WebSocket is tried again.
const RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// One application, registered on every node. A call is claimed on the node that offered it.
pub struct Worker {
    name: String,
    nodes: Vec<Ari>,
    incoming: mpsc::UnboundedReceiver<Incoming>,
    stop: watch::Sender<bool>,
    readers: Vec<JoinHandle<()>>,
}

impl Worker {
    /// Opens `name`'s WebSocket on every node (registering the application there). Fails when
    /// any node refuses; the sockets already open are closed again.
    pub async fn connect(name: &str, nodes: &[Ari], subscribe_all: bool) -> Result<Worker, String> {
        let (tx, incoming) = mpsc::unbounded_channel();
        let (stop, stopped) = watch::channel(false);
        let mut worker = Worker {
            name: name.to_owned(),
            nodes: nodes.to_vec(),
            incoming,
            stop,
            readers: Vec::new(),
        };
        for (node, ari) in nodes.iter().enumerate() {
            let events = match Events::connect(ari.node(), name, subscribe_all).await {
                Ok(events) => events,
                Err(e) => {
                    worker.close().await;
                    return Err(e);
                }
            };
            let reader = read(node, ari.clone(), events, tx.clone(), stopped.clone());
            worker.readers.push(tokio::spawn(reader));
        }
        Ok(worker)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The REST client of node `node`.
    pub fn node(&self, node: usize) -> &Ari {
        &self.nodes[node]
    }

    pub fn nodes(&self) -> &[Ari] {
        &self.nodes
    }

    /// The next event or news from any node. (A gone node's WebSocket is tried again until
    /// the worker closes, so this waits for news rather than ending.)
    pub async fn recv(&mut self) -> Option<Incoming> {
        self.incoming.recv().await
    }

    /// Closes every WebSocket (unregistering the application) and waits until they are closed.
    pub async fn close(self) {
        let _ = self.stop.send(true);
        for reader in self.readers {
            let _ = reader.await;
        }
    }
}

/// Forwards one node's events until the worker closes. When the node's WebSocket goes, it is
/// reopened every [`RETRY`] (a restarted node gets the application back).
async fn read(
    node: usize,
    ari: Ari,
    mut events: Events,
    tx: mpsc::UnboundedSender<Incoming>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let next = tokio::select! {
            _ = stop.changed() => break,
            next = events.next() => next,
        };
        let why = match next {
            Some(Ok(event)) => {
                let _ = tx.send(Incoming::Event { node, event });
                continue;
            }
            Some(Err(e)) => e,
            None => "closed by Asterisk".to_owned(),
        };
        let _ = tx.send(Incoming::Gone { node, why });
        events = loop {
            let again = async {
                tokio::time::sleep(RETRY).await;
                Events::connect(ari.node(), events.app(), events.subscribes_all()).await
            };
            tokio::select! {
                _ = stop.changed() => return,
                reopened = again => if let Ok(e) = reopened { break e },
            }
        };
        let _ = tx.send(Incoming::Back { node });
    }
    events.close().await;
}
