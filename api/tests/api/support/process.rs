//! The real `banking-api` binary as a child process, for tests that kill it, restart it
//! or send it SIGTERM.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct ApiProcess {
    pub port: u16,
    env: HashMap<String, String>,
    child: Option<Child>,
    /// Where stdout and stderr go, when the test reads the logs.
    log_file: Option<std::path::PathBuf>,
}

/// The binary under test: `BANKING_API_BIN` when set (scripts/test points it at the release
/// build, the one users run), else the debug build cargo made for these tests.
pub fn binary() -> String {
    std::env::var("BANKING_API_BIN")
        .ok()
        .filter(|path| !path.is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_banking-api").to_owned())
}

/// Whether the binary under test is a release build (timing limits apply to it only).
pub fn is_release() -> bool {
    binary().contains("/release/")
}

/// The resident memory of a process, in bytes (Linux).
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

pub fn spare_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a spare port")
}

impl ApiProcess {
    /// Starts `banking-api` with these variables on a spare port and waits for `/ready`.
    pub async fn start(env: &[(&str, String)]) -> ApiProcess {
        ApiProcess::start_with_logs(env, None).await
    }

    /// The same, with the process's output written to `log_file`.
    pub async fn start_with_logs(
        env: &[(&str, String)],
        log_file: Option<std::path::PathBuf>,
    ) -> ApiProcess {
        let mut process = ApiProcess {
            port: spare_port(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            child: None,
            log_file,
        };
        process.restart().await;
        process
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is still running (it has not crashed or been killed).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    pub async fn restart(&mut self) {
        let mut command = Command::new(binary());
        command
            .env("LOG_LEVEL", "warn")
            .envs(&self.env)
            .env("API_BIND", format!("127.0.0.1:{}", self.port))
            .env("METRICS_BIND", "127.0.0.1:0");
        match &self.log_file {
            Some(path) => {
                let file = std::fs::File::create(path).expect("log file");
                command
                    .stdout(file.try_clone().expect("log file"))
                    .stderr(file);
            }
            None => {
                command.stdout(Stdio::null()).stderr(Stdio::inherit());
            }
        }
        let child = command.spawn().expect("start banking-api");
        self.child = Some(child);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/ready", self.base())).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("banking-api did not become ready");
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then the exit status once it has stopped by itself.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill -TERM");
        child.wait().expect("wait")
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}
