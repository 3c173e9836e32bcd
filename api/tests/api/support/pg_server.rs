//! A private PostgreSQL cluster in a temporary directory on a spare port, for tests that
//! stop and restart the database, and a streaming replica of it to promote. PostgreSQL
//! refuses to run as root, so as root the clusters run as the `postgres` user.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct PgServer {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    /// `-c name=value` settings given at every start.
    settings: Vec<String>,
}

/// The newest PostgreSQL server binaries installed, when there are any.
pub fn installed_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| {
            ["initdb", "pg_ctl", "pg_basebackup", "psql"]
                .iter()
                .all(|tool| p.join(tool).exists())
        })
        .collect();
    versions.sort();
    versions.pop()
}

fn pg_bin() -> PathBuf {
    installed_bin().expect("PostgreSQL server binaries under /usr/lib/postgresql")
}

fn temporary_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("banking-pg-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("cluster directory");
    if is_root() {
        Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("chown");
    }
    dir
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

impl PgServer {
    pub fn start() -> PgServer {
        PgServer::start_with(&[])
    }

    /// A new cluster started with these `name=value` settings.
    pub fn start_with(settings: &[&str]) -> PgServer {
        let server = PgServer {
            port: super::process::spare_port(),
            dir: temporary_dir(),
            bin: pg_bin(),
            settings: settings.iter().map(|s| (*s).to_owned()).collect(),
        };
        let status = server
            .as_owner(&server.bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(server.dir.join("data"))
            .stdout(Stdio::null())
            .status()
            .expect("initdb");
        assert!(status.success(), "initdb failed");
        server.start_again();
        server
    }

    fn as_owner(&self, program: &std::path::Path) -> Command {
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A streaming replica of this cluster on a port of its own, started and streaming:
    /// a base backup (`pg_basebackup -R`, which also writes the standby's connection to
    /// this primary) started as a hot standby with these settings.
    pub fn start_replica(&self, settings: &[&str]) -> PgServer {
        let replica = PgServer {
            port: super::process::spare_port(),
            dir: temporary_dir(),
            bin: self.bin.clone(),
            settings: settings.iter().map(|s| (*s).to_owned()).collect(),
        };
        let status = replica
            .as_owner(&replica.bin.join("pg_basebackup"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args([
                "-U", "postgres", "-R", "-X", "stream", "-c", "fast", "-N", "-D",
            ])
            .arg(replica.dir.join("data"))
            .stdout(Stdio::null())
            .status()
            .expect("pg_basebackup");
        assert!(status.success(), "pg_basebackup failed");
        replica.start_again();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.sql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") != "1"
        {
            assert!(Instant::now() < deadline, "the replica never streamed");
            std::thread::sleep(Duration::from_millis(50));
        }
        replica
    }

    /// Ends recovery: the standby becomes a primary that takes writes. Returns once it does.
    pub fn promote(&self) {
        let status = self
            .as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-w", "-t", "30", "promote"])
            .stdout(Stdio::null())
            .status()
            .expect("pg_ctl promote");
        assert!(status.success(), "pg_ctl promote failed");
    }

    /// One value from `psql` (the first column of the first row), or "" on failure.
    pub fn sql(&self, query: &str) -> String {
        let output = self
            .as_owner(&self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", "postgres", "-Atqc", query])
            .stderr(Stdio::null())
            .output()
            .expect("psql");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    pub fn start_again(&self) {
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        for setting in &self.settings {
            options.push_str(&format!(" -c {setting}"));
        }
        let status = self
            .as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-o", &options, "-l"])
            .arg(self.dir.join("log"))
            .args(["-w", "start"])
            .stdout(Stdio::null())
            .status()
            .expect("pg_ctl start");
        assert!(status.success(), "pg_ctl start failed");
    }

    /// Stops at once, as a crash or a failover would look to clients.
    pub fn stop(&self) {
        let _ = self
            .as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            // Quiet when it is not running (stopped by the test, then dropped).
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
