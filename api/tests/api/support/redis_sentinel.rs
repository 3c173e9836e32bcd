//! A private Redis with replication and Sentinel on spare ports: a master, a replica of it
//! (`--replicaof`) and three sentinels (`redis-server <conf> --sentinel`, quorum 2) that
//! watch the master under the name `banking` and promote the replica when it dies.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bb8_redis::redis;

use super::process::spare_port;

pub const MASTER_NAME: &str = "banking";

pub struct SentinelGroup {
    pub master_port: u16,
    pub replica_port: u16,
    pub sentinel_ports: Vec<u16>,
    master: Option<Child>,
    others: Vec<Child>,
    dir: PathBuf,
}

/// Whether `redis-server` can be run.
pub fn installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn data_node(port: u16, dir: &std::path::Path, extra: &[&str]) -> Child {
    // In a directory of its own: a replica writes the copy it receives to disk there.
    let dir = dir.join(format!("node-{port}"));
    std::fs::create_dir_all(&dir).expect("node directory");
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(&dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server must be installed (apt-get install redis-server)")
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A command to the node on `port`, answered within a second.
pub async fn query<T: redis::FromRedisValue>(
    port: u16,
    command: &redis::Cmd,
) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let work = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        command.query_async(&mut conn).await
    };
    tokio::time::timeout(Duration::from_secs(1), work)
        .await
        .unwrap_or_else(|_| Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into()))
}

impl SentinelGroup {
    /// Starts the five processes and returns once every sentinel knows the replica and
    /// the two other sentinels, and the replica has copied the master: from then on
    /// killing the master is followed by a failover.
    pub async fn start() -> SentinelGroup {
        let dir = std::env::temp_dir().join(format!(
            "banking-sentinel-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("directory");
        let (master_port, replica_port) = (spare_port(), spare_port());
        let master = data_node(master_port, &dir, &[]);
        wait_listening(master_port);
        let replica = data_node(
            replica_port,
            &dir,
            &["--replicaof", "127.0.0.1", &master_port.to_string()],
        );
        wait_listening(replica_port);
        let mut others = vec![replica];
        let mut sentinel_ports = Vec::new();
        for _ in 0..3 {
            let port = spare_port();
            // Sentinel rewrites its configuration file as it learns: one file each.
            let conf = dir.join(format!("sentinel-{port}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "port {port}\nbind 127.0.0.1\ndir {dir}\n\
                     sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 2\n\
                     sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
                     sentinel failover-timeout {MASTER_NAME} 5000\n",
                    dir = dir.display()
                ),
            )
            .expect("sentinel configuration");
            others.push(
                Command::new("redis-server")
                    .arg(&conf)
                    .arg("--sentinel")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("redis-server --sentinel"),
            );
            sentinel_ports.push(port);
        }
        for &port in &sentinel_ports {
            wait_listening(port);
        }
        let group = SentinelGroup {
            master_port,
            replica_port,
            sentinel_ports,
            master: Some(master),
            others,
            dir,
        };
        group.wait_until_watched().await;
        group
    }

    async fn wait_until_watched(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut ready = self.replica_in_sync().await;
            for &port in &self.sentinel_ports {
                let state: redis::RedisResult<std::collections::HashMap<String, String>> =
                    query(port, redis::cmd("SENTINEL").arg("MASTER").arg(MASTER_NAME)).await;
                ready &= state.is_ok_and(|s| {
                    s.get("num-slaves").map(String::as_str) == Some("1")
                        && s.get("num-other-sentinels").map(String::as_str) == Some("2")
                });
            }
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the sentinels never saw the replica and each other"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn replica_in_sync(&self) -> bool {
        let info: redis::RedisResult<String> =
            query(self.replica_port, redis::cmd("INFO").arg("replication")).await;
        info.is_ok_and(|i| i.contains("master_link_status:up"))
    }

    /// `host:port` of each sentinel, as `REDIS_SENTINELS` lists them.
    pub fn sentinels(&self) -> Vec<String> {
        self.sentinel_ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect()
    }

    /// Waits until the replica has every write the master acknowledged so far.
    pub async fn wait_replicated(&self) {
        let replicas: i64 = query(self.master_port, redis::cmd("WAIT").arg(1).arg(900))
            .await
            .expect("WAIT");
        assert_eq!(replicas, 1, "the replica acknowledged the writes");
    }

    /// The master's port as the first sentinel that answers names it.
    pub async fn named_master(&self) -> Option<u16> {
        for &port in &self.sentinel_ports {
            let named: redis::RedisResult<(String, u16)> = query(
                port,
                redis::cmd("SENTINEL")
                    .arg("GET-MASTER-ADDR-BY-NAME")
                    .arg(MASTER_NAME),
            )
            .await;
            if let Ok((_, port)) = named {
                return Some(port);
            }
        }
        None
    }

    /// SIGKILL: the master is gone at once, with whatever it had not replicated.
    pub fn kill_master(&mut self) {
        if let Some(mut master) = self.master.take() {
            let _ = master.kill();
            let _ = master.wait();
        }
    }
}

impl Drop for SentinelGroup {
    fn drop(&mut self) {
        self.kill_master();
        for child in &mut self.others {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
